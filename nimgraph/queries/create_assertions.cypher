// name: create_assertions
// description: Link records new to the store to what they assert, grouped by anchor (an entity, or a link's source entity), so a street that every record of a batch asserts is looked up once; a new record has no assertion to merge with, so each is created.
// parameters: groups
UNWIND $groups AS group
MATCH (n:Entity {id: group.anchor})
UNWIND group.rows AS row
MATCH (r:Record {key: row.key})
CREATE (r)-[:ASSERTS {item: row.item, props: row.props}]->(n)
