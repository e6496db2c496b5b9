// Traits fold, erasure: the anchors outside this component whose events erasure deletes (an event in another
// profile's session, or a profile-less one, that carries one of its aliases, refused links too) and their
// profiles: their summaries are recomputed once the events are gone.
// Parameters: $profile_id.
MATCH (p:Profile {id: $profile_id})<-[:BELONGS_TO]-(:Alias)<-[:HAS_ALIAS|REFUSED_ALIAS]-(:Event)-[:BOUND_TO]->(anchor)
WHERE NOT (anchor)-[:BELONGS_TO]->(p)
WITH DISTINCT anchor
OPTIONAL MATCH (anchor)-[:BELONGS_TO]->(q:Profile)
RETURN CASE WHEN anchor:Session THEN 'session' ELSE 'handle' END AS kind, anchor.id AS id, q.id AS profile_id
