// name: read_meta
// description: The store's own settings (the id key's fingerprint, and the key when the store made it), and whether it holds any entity.
// parameters:
OPTIONAL MATCH (m:NimgraphMeta)
// each node's properties whole: naming `value` on a store that has none yet gets a warning printed
WITH collect(properties(m)) AS meta
RETURN meta, EXISTS { MATCH (:Entity) } AS has_entities
