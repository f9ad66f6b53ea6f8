// name: set_entity_properties
// description: Replace entities' recomputed properties: each row's properties are set, and those given as null removed; the store's own (id, type, sources) and the labels are left as they are.
// parameters: rows
UNWIND $rows AS row
MATCH (n:Entity {id: row.id})
SET n += row.properties
