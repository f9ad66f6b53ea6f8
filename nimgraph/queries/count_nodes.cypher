// name: count_nodes
// description: How many nodes the database holds, of any label: a bulk load imports only into an empty one.
// parameters:
MATCH (n)
RETURN count(n) AS nodes
