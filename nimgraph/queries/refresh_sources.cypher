// name: refresh_sources
// description: Recompute the sources that still assert each given entity, after assertions were dropped.
// parameters: ids
UNWIND $ids AS id
MATCH (n:Entity {id: id})
OPTIONAL MATCH (r:Record)-[a:ASSERTS]->(n)
WHERE a.item = id
WITH n, collect(DISTINCT r.source) AS sources
SET n.sources = sources
