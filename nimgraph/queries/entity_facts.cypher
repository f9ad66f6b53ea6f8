// name: entity_facts
// description: Entities by id with their type and properties only, for reads that do not show their provenance.
// parameters: ids
MATCH (n:Entity)
WHERE n.id IN $ids
RETURN n.id AS id, n.type AS type, properties(n) AS properties, [] AS records
