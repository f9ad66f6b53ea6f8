// name: get_entities
// description: Entities by id, with their type and properties.
// parameters: ids
MATCH (n:Entity)
WHERE n.id IN $ids
RETURN n.id AS id, n.type AS type, properties(n) AS properties
