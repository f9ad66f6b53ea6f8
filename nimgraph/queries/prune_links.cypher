// name: prune_links
// description: Delete links that no record asserts any more (a link's assertions hang on its source entity).
// parameters: rows
UNWIND $rows AS row
MATCH (anchor:Entity {id: row.anchor})-[link {id: row.item}]->(:Entity)
WHERE NOT EXISTS { MATCH (:Record)-[:ASSERTS {item: row.item}]->(anchor) }
DELETE link
