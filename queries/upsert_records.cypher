// name: upsert_records
// description: Merge source records (the unit of provenance), one per source and record id, updating their grading.
// parameters: rows
UNWIND $rows AS row
MERGE (r:Record {key: row.key})
SET r.source = row.source, r.record_id = row.record_id, r.file = row.file, r.row = row.row,
    r.date = row.date, r.grade = row.grade, r.handling = row.handling
