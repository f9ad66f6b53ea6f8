// name: upsert_entities
// description: Merge a batch of entities on their stable id; add the type label, merge properties and the sources that assert them; count those created, those joined to another source's records, and those of the rest whose property values changed, and list the ids of those two kinds.
// parameters: rows
UNWIND $rows AS row
MERGE (n:Entity {id: row.id})
WITH n, row, coalesce(n.sources, []) AS before, n.sources IS NULL AS created
WITH n, row, before, created, [s IN row.sources WHERE NOT s IN before] AS added,
     // compared before the SET, value with value as the store encodes them (dates are ISO text)
     // a null removes a value: a change only where the entity holds one
     any(k IN keys(row.properties) WHERE CASE WHEN row.properties[k] IS NULL THEN n[k] IS NOT NULL
                                              ELSE n[k] IS NULL OR n[k] <> row.properties[k] END) AS changed
SET n:$(row.labels), n.type = row.type
// properties are set only where a value changes (or the entity is new)
FOREACH (_ IN CASE WHEN created OR changed THEN [1] ELSE [] END | SET n += row.properties)
// written only when a source is new to the entity: a busy street is not rewritten every batch
FOREACH (_ IN CASE WHEN size(added) > 0 THEN [1] ELSE [] END | SET n.sources = before + added)
WITH row, created, changed, NOT created AND size(added) > 0 AS merged
RETURN sum(CASE WHEN created THEN 1 ELSE 0 END) AS created,
       sum(CASE WHEN merged THEN 1 ELSE 0 END) AS merged,
       sum(CASE WHEN changed AND NOT created AND NOT merged THEN 1 ELSE 0 END) AS updated,
       count(*) AS written,
       collect(CASE WHEN merged THEN row.id END)[..5] AS merged_ids,
       collect(CASE WHEN merged OR (changed AND NOT created) THEN row.id END) AS changed_ids
