// name: count_entities
// description: Entity counts by type.
// parameters:
MATCH (n:Entity)
RETURN n.type AS type, count(*) AS count
