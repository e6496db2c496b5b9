// One page of a profile's sessions, newest first by (created_at, id). created_at never changes, so the keyset
// ($after_time, $after_id) stays valid while sessions gain events (last_seen moves; created_at does not).
// Resolves a merged-away id through its handle; no row when the id is unknown.
MATCH (:ProfileId {id: $id})-[:BELONGS_TO]->(p:Profile)
CALL (p) {
  OPTIONAL MATCH (s:Session)-[:BELONGS_TO]->(p)
  WHERE $after_time IS NULL OR s.created_at < $after_time OR (s.created_at = $after_time AND s.id < $after_id)
  WITH s ORDER BY s.created_at DESC, s.id DESC LIMIT $limit
  CALL (s) {
    OPTIONAL MATCH (s)-[:HAS_ALIAS]->(a:Alias)
    WITH a ORDER BY a.urn
    RETURN collect(a.urn) AS aliases
  }
  CALL (s) {
    OPTIONAL MATCH (e:Event)-[:BOUND_TO]->(s)
    RETURN count(e) AS event_count
  }
  RETURN collect(CASE WHEN s IS NULL THEN null ELSE {
    id: s.id, source_id: s.source_id, profile_less: s.profile_less, created_at: s.created_at,
    first_seen: s.first_seen, last_seen: s.last_seen, aliases: aliases, event_count: event_count
  } END) AS items
}
RETURN p.id AS profile_id, items
