// name: records_for
// description: The source records that assert the given entities.
// parameters: ids
MATCH (n:Entity)<-[a:ASSERTS]-(r:Record)
WHERE n.id IN $ids AND a.item = n.id
RETURN n.id AS item_id, r.source AS source, r.record_id AS record_id, r.file AS file,
       r.row AS row, r.date AS date, r.grade AS grade, r.handling AS handling
ORDER BY source, record_id
