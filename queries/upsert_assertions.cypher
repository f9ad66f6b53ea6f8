// name: upsert_assertions
// description: Link each record to what it asserts: an entity (with what the record says of its properties, as JSON), or a link (anchored on the link's source entity).
// parameters: rows
// Replanned on every call: a plan cached while the graph had few relationships scans them all.
CYPHER replan=force
UNWIND $rows AS row
MATCH (r:Record {key: row.key})
MATCH (n:Entity {id: row.anchor})
MERGE (r)-[a:ASSERTS {item: row.item}]->(n)
SET a.props = row.props
