// name: visible_links_from
// description: Links of the given relationship types whose source is among the given entities, as (source, target, relationship); with handling codes given, only links that a record of those codes asserts to a target such a record asserts.
// parameters: ids, relationships, handling
UNWIND $ids AS source_id
MATCH (s:Entity {id: source_id})-[l]->(t:Entity)
WHERE type(l) IN $relationships
  AND ($handling IS NULL OR (
    EXISTS { MATCH (s)<-[a:ASSERTS]-(r:Record) WHERE a.item = l.id AND r.handling IN $handling }
    AND EXISTS { MATCH (t)<-[a:ASSERTS]-(r:Record) WHERE a.item = t.id AND r.handling IN $handling }
  ))
RETURN s.id AS source, t.id AS target, type(l) AS relationship
