// name: ids_for_migration
// description: Every entity id and every link (id, relationship type, ends), for rewriting ids made before ids were keyed.
// parameters:
MATCH (n:Entity)
OPTIONAL MATCH (n)-[r]->(b:Entity)
RETURN n.id AS id, collect(CASE WHEN r IS NULL THEN NULL ELSE [r.id, type(r), b.id] END) AS links
