// Create or touch the session; the SET on match also takes the session's write lock, so no concurrent merge
// can re-point it until this transaction ends.
MERGE (s:Session {id: $session_id})
  ON CREATE SET
    s.source_id = $source_id,
    s.created_at = $now,
    s.first_seen = coalesce($first_seen, $now),
    s.last_seen = coalesce($last_seen, $now),
    s.profile_less = $profile_less,
    s.context_json = $context_json
  ON MATCH SET
    s.first_seen = CASE WHEN $first_seen < s.first_seen THEN $first_seen ELSE s.first_seen END,
    s.last_seen = CASE WHEN $last_seen > s.last_seen THEN $last_seen ELSE s.last_seen END,
    s.profile_less = s.profile_less AND $profile_less
WITH s
OPTIONAL MATCH (s)-[:BELONGS_TO]->(p:Profile)
RETURN p.id AS profile_id
