// name: upsert_links
// description: Merge a batch of links between existing entities on the link's stable id; merge properties.
// parameters: rows
// Replanned on every call: a plan cached while the graph had few relationships scans them all.
CYPHER replan=force
UNWIND $rows AS row
MATCH (a:Entity {id: row.source})
MATCH (b:Entity {id: row.target})
MERGE (a)-[r:$(row.relationship) {id: row.id}]->(b)
SET r += row.properties
