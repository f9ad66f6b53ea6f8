// name: upsert_assertions
// description: Link each record to what it asserts: an entity, or a link (anchored on the link's source entity), with what the record says of the item's properties (JSON); return the assertions that were there saying something else (or, written before records kept it, nothing), with what they said.
// parameters: rows
// Replanned on every call: a plan cached while the graph had few relationships scans them all.
CYPHER replan=force
UNWIND $rows AS row
MATCH (r:Record {key: row.key})
MATCH (n:Entity {id: row.anchor})
MERGE (r)-[a:ASSERTS {item: row.item}]->(n)
ON CREATE SET a.props = row.props
WITH a, row, a.props AS before
// written only where it says something else: a re-run that repeats a record rewrites none of its assertions
WHERE before IS NULL OR before <> row.props
SET a.props = row.props
RETURN row.key AS key, row.item AS item, row.anchor AS anchor, before
