// name: retract_named_records
// description: Delete the named records of one source with their assertions, returning what each asserted.
// parameters: source, record_ids
MATCH (r:Record {source: $source})
WHERE r.record_id IN $record_ids
OPTIONAL MATCH (r)-[a:ASSERTS]->(anchor:Entity)
WITH r, collect({item: a.item, anchor: anchor.id}) AS touched
DETACH DELETE r
RETURN touched
