// name: links_touching
// description: Up to a limit of the links of the given relationship types (all when null) with either end among the given entities, by id, each with the records that assert it (and what each says of the link's properties); with handling codes given, only links that a record of those codes asserts, between entities such records assert (what a caller of that clearance may see), so the limit counts nothing else.
// parameters: ids, relationships, limit, handling
MATCH (n:Entity)-[r]-(:Entity)
WHERE n.id IN $ids AND ($relationships IS NULL OR type(r) IN $relationships)
WITH DISTINCT r, startNode(r) AS anchor, endNode(r) AS other
WHERE $handling IS NULL OR (
  EXISTS { MATCH (anchor)<-[a:ASSERTS]-(record:Record) WHERE a.item = r.id AND record.handling IN $handling }
  AND EXISTS { MATCH (anchor)<-[a:ASSERTS]-(record:Record) WHERE a.item = anchor.id AND record.handling IN $handling }
  AND EXISTS { MATCH (other)<-[a:ASSERTS]-(record:Record) WHERE a.item = other.id AND record.handling IN $handling }
)
WITH r, anchor
ORDER BY r.id
LIMIT $limit
RETURN r.id AS id, type(r) AS relationship, anchor.id AS source, endNode(r).id AS target,
       properties(r) AS properties,
       COLLECT {
         MATCH (anchor)<-[a:ASSERTS]-(record:Record)
         WHERE a.item = r.id
         RETURN record {.source, .record_id, .file, .row, .date, .grade, .handling, props: a.props}
       } AS records
