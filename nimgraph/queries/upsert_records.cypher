// name: upsert_records
// description: Merge source records (the unit of provenance), one per source and record id, updating their grading and their place in the store's write sequence (after seq, by their position in the batch); return those the store held before, and whether an earlier run wrote them (then their assertions may now be stale). A record not returned is new: it asserts nothing yet.
// parameters: rows, run, seq
UNWIND $rows AS row
MERGE (r:Record {key: row.key})
// a node that holds nothing but its key was made by this MERGE (one written before stores kept
// the run still holds its source and record id)
WITH r, row, r.run AS previous, keys(r) = ['key'] AS created
SET r.source = row.source, r.record_id = row.record_id, r.file = row.file, r.row = row.row,
    r.date = row.date, r.grade = row.grade, r.handling = row.handling, r.run = $run, r.seq = $seq + 1 + row.position
WITH row, previous, created
WHERE NOT created
RETURN row.key AS key, previous IS NOT NULL AND previous <> $run AS rewritten
