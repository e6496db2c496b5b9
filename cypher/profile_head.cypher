// A profile by any id it ever had, without its events: the handle resolves a merged-away id to the survivor
// in one hop. Everything computed from events comes from profile_traits.
MATCH (:ProfileId {id: $id})-[:BELONGS_TO]->(p:Profile)
CALL (p) {
  MATCH (a:Alias)-[:BELONGS_TO]->(p)
  WITH a ORDER BY a.urn
  RETURN collect(a.urn) AS aliases
}
CALL (p) {
  MATCH (h:ProfileId)-[:BELONGS_TO]->(p)
  WHERE h.id <> p.id
  WITH h ORDER BY h.id
  RETURN collect(h.id) AS merged_ids
}
CALL (p) {
  MATCH (s:Session)-[:BELONGS_TO]->(p)
  RETURN count(s) AS session_count
}
RETURN p.id AS id, p.created_at AS created_at, aliases, merged_ids, session_count
