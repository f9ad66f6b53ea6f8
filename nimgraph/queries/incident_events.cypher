// name: incident_events
// description: Events of the given types dated within [since, until] (date, else the day of dateTime, each only when it is text and not empty; a YYYY-MM month as its first day), with the properties an assessment needs; with handling codes given, only events a record of those codes asserts, and for an event that other records also assert (read whatever its stored date, which a hidden record may have given), what the visible records themselves said, in write order.
// parameters: types, since, until, handling
MATCH (e:Entity)
WHERE e.type IN $types
WITH e, CASE WHEN e.date IS :: STRING NOT NULL AND e.date <> '' THEN e.date
             WHEN e.dateTime IS :: STRING NOT NULL AND e.dateTime <> '' THEN left(e.dateTime, 10) END AS stated,
     $handling IS NOT NULL AND EXISTS {
       MATCH (e)<-[a:ASSERTS]-(r:Record) WHERE a.item = e.id AND NOT r.handling IN $handling
     } AS hidden
// the day as assemble() reads it (incident_read.stated_day, then window_day: a YYYY-MM month is its first day)
WITH e, hidden, left(stated + '-01', 10) AS day
WHERE ((day >= $since AND day <= $until) OR hidden)
  AND ($handling IS NULL OR EXISTS {
    MATCH (e)<-[a:ASSERTS]-(r:Record) WHERE a.item = e.id AND r.handling IN $handling
  })
RETURN e.id AS id, e.type AS type, hidden,
       e {.date, .dateTime, .datePrecision, .category, .crimeType, .latitude, .longitude} AS properties,
       CASE WHEN hidden THEN COLLECT {
         MATCH (e)<-[a:ASSERTS]-(r:Record)
         WHERE a.item = e.id AND r.handling IN $handling
         WITH a, r ORDER BY coalesce(r.seq, 0), r.source, r.record_id
         RETURN a.props
       } END AS said
