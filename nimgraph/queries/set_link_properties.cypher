// name: set_link_properties
// description: Replace links' recomputed properties (each link found by its id from its source entity): each row's properties are set, and those given as null removed; the link's id is left as it is.
// parameters: rows
UNWIND $rows AS row
MATCH (:Entity {id: row.anchor})-[link {id: row.id}]->(:Entity)
SET link += row.properties
