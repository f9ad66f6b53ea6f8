// name: turn_links
// description: Turn links round (a symmetric link whose ends the keyed ids order the other way), moving their assertions to the new source entity, where a link's assertions hang.
// parameters: rows
UNWIND $rows AS row
MATCH (a:Entity)-[r {id: row.id}]->(b:Entity)
CREATE (b)-[turned:$(type(r))]->(a)
SET turned = properties(r)
DELETE r
WITH a, b, row
MATCH (a)<-[held:ASSERTS {item: row.id}]-(record:Record)
CREATE (record)-[moved:ASSERTS]->(b)
SET moved = properties(held)
DELETE held
