// name: read_meta
// description: The store's own settings (the id key's fingerprint, and the key when the store made it), and whether it holds any entity.
// parameters:
OPTIONAL MATCH (m:NimgraphMeta)
WITH collect({name: m.name, value: m.value}) AS meta
RETURN meta, EXISTS { MATCH (:Entity) } AS has_entities
