// Traits fold, recompute from scratch: the anchors (sessions, id handles) of these profiles.
// Parameters: $profile_ids.
UNWIND $profile_ids AS pid
MATCH (p:Profile {id: pid})
CALL (p) {
  OPTIONAL MATCH (s:Session)-[:BELONGS_TO]->(p)
  RETURN collect(s.id) AS session_ids
}
CALL (p) {
  OPTIONAL MATCH (h:ProfileId)-[:BELONGS_TO]->(p)
  RETURN collect(h.id) AS handle_ids
}
RETURN p.id AS id, session_ids, handle_ids
