// name: upsert_entities
// description: Merge a batch of entities on their stable id; add the type label, merge properties and the sources that assert them; count those created and those joined to another source's records.
// parameters: rows
UNWIND $rows AS row
MERGE (n:Entity {id: row.id})
WITH n, row, coalesce(n.sources, []) AS before, n.sources IS NULL AS created
WITH n, row, before, created, [s IN row.sources WHERE NOT s IN before] AS added
SET n:$(row.labels)
SET n += row.properties, n.type = row.type
// written only when a source is new to the entity: a busy street is not rewritten every batch
FOREACH (_ IN CASE WHEN size(added) > 0 THEN [1] ELSE [] END | SET n.sources = before + added)
WITH row, created, NOT created AND size(added) > 0 AS merged
RETURN sum(CASE WHEN created THEN 1 ELSE 0 END) AS created,
       sum(CASE WHEN merged THEN 1 ELSE 0 END) AS merged,
       count(*) AS written,
       collect(CASE WHEN merged THEN row.id END)[..5] AS merged_ids
