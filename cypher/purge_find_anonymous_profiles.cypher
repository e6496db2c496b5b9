// Retention: anonymous profiles (no alias) with no activity since $cutoff, i.e. every session last seen before
// it and every session-less event (bound to one of the profile's id handles) older than it. The scan starts from
// old sessions and old events (the last_seen and time indexes), so recent data is never walked.
CALL () {
  MATCH (s:Session)-[:BELONGS_TO]->(p:Profile)
  WHERE s.last_seen < $cutoff
  RETURN p
  UNION
  MATCH (e:Event)-[:BOUND_TO]->(:ProfileId)-[:BELONGS_TO]->(p:Profile)
  WHERE e.time < $cutoff
  RETURN p
}
WITH DISTINCT p
WHERE NOT EXISTS { MATCH (:Alias)-[:BELONGS_TO]->(p) }
  AND NOT EXISTS { MATCH (s:Session)-[:BELONGS_TO]->(p) WHERE s.last_seen >= $cutoff }
  AND NOT EXISTS { MATCH (e:Event)-[:BOUND_TO]->(:ProfileId)-[:BELONGS_TO]->(p) WHERE e.time >= $cutoff }
RETURN p.id AS id
LIMIT $limit
