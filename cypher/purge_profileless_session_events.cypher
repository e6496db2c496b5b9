// Retention: delete up to $limit events of the given profile-less sessions, still checking they are expired.
UNWIND $ids AS id
MATCH (s:Session {id: id})
WHERE s.last_seen < $cutoff
  AND NOT EXISTS { MATCH (s)-[:BELONGS_TO]->(:Profile) }
MATCH (e:Event)-[:BOUND_TO]->(s)
WITH e
LIMIT $limit
DETACH DELETE e
RETURN count(*) AS deleted
