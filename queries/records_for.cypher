// name: records_for
// description: The source records that assert the given entities or links.
// parameters: ids
MATCH (r:Record)
WHERE r.item_id IN $ids
RETURN r.item_id AS item_id, r.source AS source, r.record_id AS record_id, r.file AS file,
       r.row AS row, r.date AS date, r.grade AS grade, r.handling AS handling
ORDER BY source, record_id
