MATCH (s:Session {id: $id})
OPTIONAL MATCH (s)-[:BELONGS_TO]->(p:Profile)
CALL (s) {
  OPTIONAL MATCH (s)-[:HAS_ALIAS]->(a:Alias)
  WITH a ORDER BY a.urn
  RETURN collect(a.urn) AS aliases
}
CALL (s) {
  OPTIONAL MATCH (e:Event)-[:BOUND_TO]->(s)
  RETURN count(e) AS event_count
}
RETURN s.id AS id, s.source_id AS source_id, p.id AS profile_id, s.profile_less AS profile_less,
       s.created_at AS created_at, s.first_seen AS first_seen, s.last_seen AS last_seen,
       aliases, event_count
