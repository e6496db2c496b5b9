// A profile by any id it ever had: the handle resolves a merged-away id to the survivor in one hop.
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
CALL (p) {
  MATCH (p)<-[:BELONGS_TO]-()<-[:BOUND_TO]-(e:Event)
  RETURN count(e) AS event_count, min(e.time) AS first_seen, max(e.time) AS last_seen
}
RETURN p.id AS id, p.created_at AS created_at, aliases, merged_ids, session_count, event_count,
       first_seen, last_seen
