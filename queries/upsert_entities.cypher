// name: upsert_entities
// description: Merge a batch of entities on their stable id; add the type label and merge properties.
// parameters: rows
UNWIND $rows AS row
MERGE (n:Entity {id: row.id})
SET n:$(row.labels)
SET n += row.properties, n.type = row.type
