// name: rekey_links
// description: Give links the ids made from their keyed ends, and move their assertions (held on the source entity) along.
// parameters: rows
UNWIND $rows AS row
MATCH (s:Entity {id: row.source})-[r {id: row.old}]->(:Entity)
SET r.id = row.new
WITH s, row
OPTIONAL MATCH (s)<-[a:ASSERTS {item: row.old}]-(:Record)
SET a.item = row.new
