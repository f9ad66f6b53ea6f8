// name: upsert_entities
// description: Merge a batch of entities on their stable id; add the type label, merge properties and the sources that assert them; report which existed and from which sources.
// parameters: rows
UNWIND $rows AS row
MERGE (n:Entity {id: row.id})
WITH n, row, n.sources AS before
SET n:$(row.labels)
SET n += row.properties, n.type = row.type
// written only when a source is new to the entity: a busy street is not rewritten every batch
FOREACH (_ IN CASE WHEN any(s IN row.sources WHERE NOT s IN coalesce(before, [])) THEN [1] ELSE [] END |
  SET n.sources = coalesce(before, []) + [s IN row.sources WHERE NOT s IN coalesce(before, [])])
RETURN row.id AS id, before
