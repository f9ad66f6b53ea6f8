// name: unsaid_assertions
// description: What records an earlier run wrote assert besides the items this run's batch has them say: stale if the run ends without saying them; returns each with its anchor.
// parameters: records
UNWIND $records AS record
MATCH (:Record {key: record.key})-[a:ASSERTS]->(anchor:Entity)
WHERE NOT a.item IN record.items
RETURN record.key AS key, a.item AS item, anchor.id AS anchor
