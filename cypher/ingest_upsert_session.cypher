// Create the session if it is new. An existing one is not touched here: its times are updated at the end of
// the transaction, after the lock of its profile is held (see ingest_touch_session).
MERGE (s:Session {id: $session_id})
  ON CREATE SET
    s.source_id = $source_id,
    s.created_at = $now,
    s.first_seen = coalesce($first_seen, $now),
    s.last_seen = coalesce($last_seen, $now),
    s.profile_less = $profile_less,
    s.context_json = $context_json
RETURN s.id AS id
