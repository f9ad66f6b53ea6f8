// name: drop_stale_assertions
// description: Records written by this run assert only what this run says: drop their assertions from earlier runs, returning what each dropped assertion was about.
// parameters: keys, run
UNWIND $keys AS key
MATCH (:Record {key: key})-[a:ASSERTS]->(anchor:Entity)
WHERE coalesce(a.run, '') <> $run
WITH a, a.item AS item, anchor.id AS anchor
DELETE a
RETURN item, anchor
