// name: count_links
// description: Link counts by relationship type.
// parameters:
MATCH (:Entity)-[r]->(:Entity)
RETURN type(r) AS relationship, count(*) AS count
