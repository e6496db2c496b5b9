// Take back the link between a session and an alias (and the same link on the session's events), keeping it
// as UNLINKED_ALIAS so it stays visible but no longer holds the component together.
MATCH (s:Session {id: $session_id})-[r:HAS_ALIAS]->(a:Alias {urn: $urn})
CREATE (s)-[:UNLINKED_ALIAS {created_at: r.created_at, unlinked_at: $now}]->(a)
DELETE r
WITH s, a
CALL (s, a) {
  MATCH (e:Event)-[:BOUND_TO]->(s)
  MATCH (e)-[r2:HAS_ALIAS]->(a)
  CREATE (e)-[:UNLINKED_ALIAS {unlinked_at: $now}]->(a)
  DELETE r2
  RETURN count(*) AS event_links
}
RETURN event_links
