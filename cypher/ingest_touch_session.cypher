// Widen the session's first/last seen to this request's event times and clear profile_less once a request
// binds it to a profile. The lock is taken first (a throwaway property write) so the values compared are the
// committed ones, never a stale read that would lose a concurrent update.
MATCH (s:Session {id: $session_id})
SET s._lock = true
REMOVE s._lock
WITH s
SET
  s.first_seen = CASE WHEN $first_seen < s.first_seen THEN $first_seen ELSE s.first_seen END,
  s.last_seen = CASE WHEN $last_seen > s.last_seen THEN $last_seen ELSE s.last_seen END,
  s.profile_less = s.profile_less AND $profile_less
RETURN s.id AS id
