// name: records_behind
// description: How many records (of the given handling codes, all when null) assert the given entities, by source, grade and handling code.
// parameters: ids, handling
UNWIND $ids AS item_id
MATCH (n:Entity {id: item_id})<-[a:ASSERTS]-(r:Record)
WHERE a.item = n.id AND ($handling IS NULL OR r.handling IN $handling)
RETURN r.source AS source, r.grade AS grade, r.handling AS handling, count(*) AS records
