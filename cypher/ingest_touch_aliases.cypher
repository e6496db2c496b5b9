// Widen each alias's first/last seen, lock first so the comparison reads committed values.
UNWIND $aliases AS al
MATCH (a:Alias {urn: al.urn})
SET a._lock = true
REMOVE a._lock
WITH a, al
SET
  a.first_seen = CASE WHEN al.first_seen < a.first_seen THEN al.first_seen ELSE a.first_seen END,
  a.last_seen = CASE WHEN al.last_seen > a.last_seen THEN al.last_seen ELSE a.last_seen END
RETURN count(a) AS touched
