// Traits fold, recompute: the stored summaries of every anchor of these profiles (their sessions and id
// handles), which graph_model/trait_fold.py combines into the profile's. Reads summaries, never events.
// Parameters: $profile_ids.
UNWIND $profile_ids AS pid
MATCH (p:Profile {id: pid})
CALL (p) {
  OPTIONAL MATCH (s:Session)-[:BELONGS_TO]->(p)
  RETURN collect(properties(s)) AS sessions
}
CALL (p) {
  OPTIONAL MATCH (h:ProfileId)-[:BELONGS_TO]->(p)
  RETURN collect(properties(h)) AS handles
}
RETURN p.id AS id, sessions, handles
