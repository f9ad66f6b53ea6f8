// name: register_source
// description: Record what a mapping spec says of its information source: one node per source name, labelled with the ontology's information source class; merges the given properties into those already there.
// parameters: label, name, properties
MERGE (s:$($label) {name: $name})
SET s += $properties
