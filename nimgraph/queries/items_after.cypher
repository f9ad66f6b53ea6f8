// name: items_after
// description: Up to a limit of entities whose id comes after the given one, in id order, each with the ids of the links it is the source entity of (where their assertions hang): a page of a walk over every entity and link.
// parameters: after, limit
MATCH (n:Entity)
WHERE n.id > $after
WITH n
ORDER BY n.id
LIMIT $limit
RETURN n.id AS id, [(n)-[link]->(:Entity) | link.id] AS links
