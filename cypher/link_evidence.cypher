// The evidence that holds a component together, kept so it can be explained and re-derived:
// the anchor (a session, or the profile id handle when no session is stored) saw these aliases and claims.
// Refused links are kept too, under their own type, so they never join components.
OPTIONAL MATCH (s:Session {id: $session_id})
OPTIONAL MATCH (h0:ProfileId {id: $handle_id})
WITH coalesce(s, h0) AS anchor
WHERE anchor IS NOT NULL
CALL (anchor) {
  UNWIND $linked_urns AS urn
  MATCH (a:Alias {urn: urn})
  MERGE (anchor)-[r:HAS_ALIAS]->(a)
    ON CREATE SET r.created_at = $now, r.event_id = $event_id
  RETURN count(*) AS linked
}
CALL (anchor) {
  UNWIND $refused_urns AS urn
  MATCH (a:Alias {urn: urn})
  MERGE (anchor)-[r:REFUSED_ALIAS]->(a)
    ON CREATE SET r.created_at = $now, r.event_id = $event_id
  RETURN count(*) AS refused
}
CALL (anchor) {
  UNWIND $claimed_ids AS claimed_id
  MATCH (h:ProfileId {id: claimed_id})
  WHERE h <> anchor
  MERGE (anchor)-[r:CLAIMED]->(h)
    ON CREATE SET r.created_at = $now
  RETURN count(*) AS claimed
}
RETURN linked, refused, claimed
