// name: next_write_sequence
// description: Take the next count numbers of the store-wide write sequence (one per record of a batch), at the start of the batch's transaction, which then holds them until it commits, so that records carry the order in which they were last written; returns the number before the first taken.
// parameters: count
MERGE (m:NimgraphMeta {name: 'write_sequence'})
SET m.value = coalesce(m.value, 0) + $count
RETURN m.value - $count AS seq
