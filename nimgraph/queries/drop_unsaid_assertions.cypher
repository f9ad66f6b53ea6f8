// name: drop_unsaid_assertions
// description: At a run's end, drop what its records said in an earlier run and not in this one (a record another run has written since is left to that run); return what each dropped assertion was about.
// parameters: rows
UNWIND $rows AS row
MATCH (r:Record {key: row.key})-[a:ASSERTS {item: row.item}]->(anchor:Entity {id: row.anchor})
WHERE r.run = row.run
WITH a, row.item AS item, anchor.id AS anchor
DELETE a
RETURN item, anchor
