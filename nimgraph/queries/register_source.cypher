// name: register_source
// description: Record what a mapping spec says of its information source: one node per source name, labelled with the ontology's information source class; merges the given properties into those already there, except the custodian, which the first to register the source keeps.
// parameters: label, name, properties
MERGE (s:$($label) {name: $name})
WITH s, s.custodian AS kept
SET s += $properties
SET s.custodian = coalesce(kept, $properties.custodian)
