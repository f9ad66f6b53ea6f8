// name: find_entities
// description: Entity ids of the given types (all types when null) with text in any property value, or that id.
// parameters: types, text, skip, limit
MATCH (n:Entity)
WHERE ($types IS NULL OR n.type IN $types)
  AND ($text IS NULL OR n.id = $text
       OR any(k IN keys(n) WHERE NOT k IN ['id', 'type', 'sources'] AND toLower(toString(n[k])) CONTAINS toLower($text))
       // what any one record said, though a later one overwrote it: a reader who sees only that record finds it
       OR EXISTS { MATCH (n)<-[a:ASSERTS]-(:Record) WHERE a.item = n.id AND toLower(a.props) CONTAINS toLower($text) })
RETURN n.id AS id
ORDER BY id
SKIP $skip
LIMIT $limit
