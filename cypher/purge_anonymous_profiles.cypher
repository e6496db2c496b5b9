// Retention: remove the given anonymous profiles once their events are gone: their sessions, their id handles
// (including those of anonymous profiles merged into them) and the profile node. Expiry is checked again.
UNWIND $ids AS id
MATCH (p:Profile {id: id})
WHERE NOT EXISTS { MATCH (:Alias)-[:BELONGS_TO]->(p) }
  AND NOT EXISTS { MATCH (s:Session)-[:BELONGS_TO]->(p) WHERE s.last_seen >= $cutoff }
  AND NOT EXISTS { MATCH (p)<-[:BELONGS_TO]-()<-[:BOUND_TO|ABOUT]-(:Event) }
CALL (p) {
  MATCH (m)-[:BELONGS_TO]->(p)
  WITH m, CASE WHEN m:Session THEN 1 ELSE 0 END AS is_session
  DETACH DELETE m
  RETURN sum(is_session) AS sessions, count(m) AS members
}
WITH p, sessions, members
DETACH DELETE p
RETURN count(*) AS profiles, coalesce(sum(sessions), 0) AS sessions,
       coalesce(sum(members) - sum(sessions), 0) AS handles
