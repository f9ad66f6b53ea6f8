// name: write_meta
// description: Record the store's own settings, keeping a value already there (two first writers agree on one key).
// parameters: rows
UNWIND $rows AS row
MERGE (m:NimgraphMeta {name: row.name})
ON CREATE SET m.value = row.value
