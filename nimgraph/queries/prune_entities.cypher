// name: prune_entities
// description: Delete entities that no record asserts any more, with their links and the assertions of links that point at them.
// parameters: ids
UNWIND $ids AS id
MATCH (n:Entity {id: id})
WHERE NOT EXISTS { MATCH (:Record)-[:ASSERTS {item: id}]->(n) }
CALL (n) {
  MATCH (other:Entity)-[incoming]->(n)
  MATCH (:Record)-[a:ASSERTS {item: incoming.id}]->(other)
  DELETE a
}
DETACH DELETE n
