// name: links_touching
// description: Up to a limit of the links of the given relationship types (all when null) with either end among the given entities, by id, each with the records that assert it.
// parameters: ids, relationships, limit
MATCH (n:Entity)-[r]-(:Entity)
WHERE n.id IN $ids AND ($relationships IS NULL OR type(r) IN $relationships)
WITH DISTINCT r
ORDER BY r.id
LIMIT $limit
WITH r, startNode(r) AS anchor
RETURN r.id AS id, type(r) AS relationship, anchor.id AS source, endNode(r).id AS target,
       properties(r) AS properties,
       COLLECT {
         MATCH (anchor)<-[a:ASSERTS]-(record:Record)
         WHERE a.item = r.id
         RETURN record {.source, .record_id, .file, .row, .date, .grade, .handling}
       } AS records
