// name: links_of_types
// description: Every link of the given relationship types, with the ids of its ends.
// parameters: relationships
MATCH (a:Entity)-[r]->(b:Entity)
WHERE type(r) IN $relationships
RETURN r.id AS id, type(r) AS relationship, a.id AS source, b.id AS target, properties(r) AS properties
