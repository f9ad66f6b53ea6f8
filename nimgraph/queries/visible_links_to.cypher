// name: visible_links_to
// description: Links of the given relationship types whose target is among the given entities, as (source, target, relationship); with handling codes given, only links that a record of those codes asserts from a source such a record asserts.
// parameters: ids, relationships, handling
UNWIND $ids AS target_id
MATCH (s:Entity)-[l]->(t:Entity {id: target_id})
WHERE type(l) IN $relationships
  AND ($handling IS NULL OR (
    EXISTS { MATCH (s)<-[a:ASSERTS]-(r:Record) WHERE a.item = l.id AND r.handling IN $handling }
    AND EXISTS { MATCH (s)<-[a:ASSERTS]-(r:Record) WHERE a.item = s.id AND r.handling IN $handling }
  ))
RETURN s.id AS source, t.id AS target, type(l) AS relationship
