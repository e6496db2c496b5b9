// Erasure, final step, under the profile's lock (the write lock of its own id handle, as ingestion takes it):
// delete what events arrived since the bulk step, then every member (sessions, aliases, the id handles of
// the profile and of every profile merged into it) and the profile itself. No row: the profile was merged
// into another meanwhile, and the caller resolves again.
MATCH (h:ProfileId {id: $profile_id})-[:BELONGS_TO]->(p:Profile {id: $profile_id})
SET h._lock = true
REMOVE h._lock
WITH p
CALL (p) {
  OPTIONAL MATCH (p)<-[:BELONGS_TO]-()<-[:BOUND_TO|ABOUT|HAS_ALIAS|REFUSED_ALIAS|NAMES]-(e:Event)
  WITH DISTINCT e
  DETACH DELETE e
  RETURN count(e) AS events
}
CALL (p) {
  MATCH (m)-[:BELONGS_TO]->(p)
  WITH m, CASE WHEN m:Session THEN 1 ELSE 0 END AS is_session, CASE WHEN m:Alias THEN 1 ELSE 0 END AS is_alias
  DETACH DELETE m
  RETURN sum(is_session) AS sessions, sum(is_alias) AS aliases, count(*) - sum(is_session) - sum(is_alias) AS handles
}
DETACH DELETE p
RETURN events, sessions, aliases, handles
