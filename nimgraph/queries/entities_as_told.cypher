// name: entities_as_told
// description: Entities by id (of the given types, all when null) with their properties; with handling codes given, only those a record of those codes asserts, each with whether other records assert it too and, if so, what the visible records said (in write order), and the grades of the visible records.
// parameters: ids, types, handling
MATCH (n:Entity)
WHERE ($ids IS NULL OR n.id IN $ids) AND ($types IS NULL OR n.type IN $types)
  AND ($handling IS NULL OR EXISTS {
    MATCH (n)<-[a:ASSERTS]-(r:Record) WHERE a.item = n.id AND r.handling IN $handling
  })
WITH n, $handling IS NOT NULL AND EXISTS {
  MATCH (n)<-[a:ASSERTS]-(r:Record) WHERE a.item = n.id AND NOT r.handling IN $handling
} AS hidden
RETURN n.id AS id, n.type AS type, properties(n) AS properties, hidden,
       CASE WHEN hidden THEN COLLECT {
         MATCH (n)<-[a:ASSERTS]-(r:Record)
         WHERE a.item = n.id AND r.handling IN $handling
         WITH a, r ORDER BY coalesce(r.seq, 0), r.source, r.record_id
         RETURN a.props
       } END AS said,
       COLLECT {
         MATCH (n)<-[a:ASSERTS]-(r:Record)
         WHERE a.item = n.id AND ($handling IS NULL OR r.handling IN $handling)
         RETURN r.grade
       } AS grades
