// name: get_entities
// description: Entities by id, each with the source records that assert it (its provenance).
// parameters: ids
MATCH (n:Entity)
WHERE n.id IN $ids
RETURN n.id AS id, n.type AS type, properties(n) AS properties,
       COLLECT {
         MATCH (n)<-[a:ASSERTS]-(r:Record)
         WHERE a.item = n.id
         RETURN r {.source, .record_id, .file, .row, .date, .grade, .handling, .seq, props: a.props}
       } AS records
