// One page of a profile's sessions, newest first by (created_at, id). created_at never changes, so the keyset
// ($after_time, $after_id) stays valid while sessions gain events (last_seen moves; created_at does not) and
// across merges. A seek on (profile_id, created_at) and each session's event count from its traits fold
// (counted when a session has none yet): the cost is the page's, not the profile's history.
// Resolves a merged-away id through its handle; no row when the id is unknown.
MATCH (:ProfileId {id: $id})-[:BELONGS_TO]->(p:Profile)
CALL (p) {
  OPTIONAL MATCH (s:Session)
  WHERE s.profile_id = p.id AND s.created_at IS NOT NULL
    AND ($after_time IS NULL OR s.created_at < $after_time OR (s.created_at = $after_time AND s.id < $after_id))
  WITH s ORDER BY s.created_at DESC, s.id DESC LIMIT $limit
  CALL (s) {
    OPTIONAL MATCH (s)-[:HAS_ALIAS]->(a:Alias)
    WITH a ORDER BY a.urn
    RETURN collect(a.urn) AS aliases
  }
  RETURN collect(CASE WHEN s IS NULL THEN null ELSE {
    id: s.id, source_id: s.source_id, profile_less: s.profile_less, created_at: s.created_at,
    first_seen: s.first_seen, last_seen: s.last_seen, aliases: aliases,
    event_count: coalesce(s.tf_events, COUNT { (:Event)-[:BOUND_TO]->(s) })
  } END) AS items
}
RETURN p.id AS profile_id, items
