// name: rekey_entities
// description: Give entities their keyed ids, and move the entities' own assertions along.
// parameters: rows
UNWIND $rows AS row
MATCH (n:Entity {id: row.old})
SET n.id = row.new
WITH n, row
OPTIONAL MATCH (n)<-[a:ASSERTS {item: row.old}]-(:Record)
SET a.item = row.new
