// name: add_up_assertions
// description: Set what records say of items (JSON), for rows that share a record id within one run, whose sayings add up.
// parameters: rows
UNWIND $rows AS row
MATCH (:Record {key: row.key})-[a:ASSERTS {item: row.item}]->(:Entity {id: row.anchor})
SET a.props = row.props
