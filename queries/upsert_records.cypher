// name: upsert_records
// description: Merge the source records (provenance) behind entities and links, one per item, source and record id.
// parameters: rows
UNWIND $rows AS row
MERGE (r:Record {key: row.key})
SET r += row.fields
