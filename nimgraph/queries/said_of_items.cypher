// name: said_of_items
// description: For each given item that still stands (an entity, or a link by its id and its source entity, where its assertions hang): the properties it holds and, in a one-item list each, what every record that asserts it says of it (JSON; null when written before records kept it), in the order their records were last written (those from before the write sequence first, by source and record id).
// parameters: rows
UNWIND $rows AS row
MATCH (anchor:Entity {id: row.anchor})
OPTIONAL MATCH (anchor)-[link {id: row.item}]->(:Entity)
WHERE row.item <> row.anchor
WITH row, anchor, link
WHERE row.item = row.anchor OR link IS NOT NULL
RETURN row.item AS item, row.anchor AS anchor,
       CASE WHEN link IS NULL THEN properties(anchor) ELSE properties(link) END AS properties,
       COLLECT {
         MATCH (anchor)<-[a:ASSERTS {item: row.item}]-(r:Record)
         WITH a, r
         ORDER BY coalesce(r.seq, 0), r.source, r.record_id
         RETURN [a.props] AS said
       } AS said
