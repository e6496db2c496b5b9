// Move a webhook's feed position on, past what was delivered, if this process still holds its lease; the
// lease is renewed with it. No row: the lease was lost, and the caller stops.
MATCH (w:Webhook {id: $id})
SET w._lock = true
REMOVE w._lock
WITH w
WHERE w.lease_owner = $owner AND w.cursor <= $cursor
SET w.cursor = $cursor, w.lease_until = datetime.realtime() + duration({milliseconds: $ttl_ms})
RETURN w.cursor AS cursor
