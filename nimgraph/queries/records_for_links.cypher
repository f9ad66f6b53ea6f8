// name: records_for_links
// description: The source records that assert the given links, found through each link's source entity, with what each says of the link's properties (JSON).
// parameters: links
UNWIND $links AS link
MATCH (:Entity {id: link.source})<-[a:ASSERTS {item: link.id}]-(r:Record)
RETURN link.id AS item_id, r.source AS source, r.record_id AS record_id, r.file AS file,
       r.row AS row, r.date AS date, r.grade AS grade, r.handling AS handling, a.props AS props, r.seq AS seq
ORDER BY source, record_id
