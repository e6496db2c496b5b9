// A session's links as the replay decided them: accepted links hold the component together (HAS_ALIAS),
// refused ones are kept as evidence that never joins (REFUSED_ALIAS). Each pair keeps one kind.
// Parameters: $links (list of {session_id, urn, accepted}), $now.
UNWIND $links AS link
MATCH (s:Session {id: link.session_id}), (a:Alias {urn: link.urn})
CALL (s, a, link) {
  WITH s, a, link WHERE link.accepted
  MERGE (s)-[h:HAS_ALIAS]->(a)
    ON CREATE SET h.created_at = datetime($now)
  WITH s, a
  OPTIONAL MATCH (s)-[x:REFUSED_ALIAS]->(a)
  DELETE x
}
CALL (s, a, link) {
  WITH s, a, link WHERE NOT link.accepted
  MERGE (s)-[x:REFUSED_ALIAS]->(a)
    ON CREATE SET x.created_at = datetime($now)
  WITH s, a
  OPTIONAL MATCH (s)-[h:HAS_ALIAS]->(a)
  DELETE h
}
RETURN count(*) AS relabelled
