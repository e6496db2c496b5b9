// Bind the events this request created to their anchor (the session, or the profile id handle when no session
// is stored) and to the aliases each carried. Refused aliases keep their own relationship type.
UNWIND $events AS ev
MATCH (e:Event {id: ev.id})
CALL (e, ev) {
  OPTIONAL MATCH (s:Session {id: $session_id})
  OPTIONAL MATCH (h:ProfileId {id: $handle_id})
  WITH e, coalesce(s, h) AS anchor
  FOREACH (_ IN CASE WHEN anchor IS NULL THEN [] ELSE [1] END |
    CREATE (e)-[:BOUND_TO]->(anchor))
}
CALL (e, ev) {
  UNWIND ev.linked_urns AS urn
  MATCH (a:Alias {urn: urn})
  CREATE (e)-[:HAS_ALIAS]->(a)
}
CALL (e, ev) {
  UNWIND ev.refused_urns AS urn
  MATCH (a:Alias {urn: urn})
  CREATE (e)-[:REFUSED_ALIAS]->(a)
}
RETURN count(e) AS bound
