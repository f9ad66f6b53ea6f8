// name: drop_stale_assertions
// description: A record an earlier run wrote asserts only what this run says: drop its other assertions, returning what each dropped assertion was about.
// parameters: records
UNWIND $records AS record
MATCH (:Record {key: record.key})-[a:ASSERTS]->(anchor:Entity)
WHERE NOT a.item IN record.items
WITH a, a.item AS item, anchor.id AS anchor
DELETE a
RETURN item, anchor
