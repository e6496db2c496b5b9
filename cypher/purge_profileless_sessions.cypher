// Retention: remove the given profile-less sessions once their events are gone.
UNWIND $ids AS id
MATCH (s:Session {id: id})
WHERE s.last_seen < $cutoff
  AND NOT EXISTS { MATCH (s)-[:BELONGS_TO]->(:Profile) }
  AND NOT EXISTS { MATCH (:Event)-[:BOUND_TO]->(s) }
DETACH DELETE s
RETURN count(*) AS deleted
