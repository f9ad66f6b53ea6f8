// name: upsert_links
// description: Merge a batch of links between existing entities on the link's stable id; merge properties.
// parameters: rows
UNWIND $rows AS row
MATCH (a:Entity {id: row.source})
MATCH (b:Entity {id: row.target})
MERGE (a)-[r:$(row.relationship) {id: row.id}]->(b)
SET r += row.properties
