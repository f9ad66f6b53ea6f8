// name: information_sources
// description: Every registered information source, by name, with its properties (agency, dataset and the like).
// parameters: label
MATCH (s:$($label))
WHERE s.name IS NOT NULL AND NOT s:Entity
RETURN s.name AS name, properties(s) AS properties
ORDER BY name
