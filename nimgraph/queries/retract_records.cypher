// name: retract_records
// description: Delete up to a limit of one source's records with their assertions, returning what each asserted.
// parameters: source, limit
MATCH (r:Record {source: $source})
WITH r LIMIT $limit
OPTIONAL MATCH (r)-[a:ASSERTS]->(anchor:Entity)
WITH r, collect({item: a.item, anchor: anchor.id}) AS touched
DETACH DELETE r
RETURN touched
