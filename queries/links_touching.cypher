// name: links_touching
// description: Links of the given relationship types (all when null) with either end among the given entities.
// parameters: ids, relationships
MATCH (n:Entity)-[r]-(m:Entity)
WHERE n.id IN $ids AND ($relationships IS NULL OR type(r) IN $relationships)
RETURN DISTINCT r.id AS id, type(r) AS relationship, startNode(r).id AS source, endNode(r).id AS target,
       properties(r) AS properties
ORDER BY id
