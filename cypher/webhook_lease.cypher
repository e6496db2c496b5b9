// Take or renew the delivery lease of a webhook, so that of several API processes one delivers its changes:
// locked first (a throwaway write), so the owner and expiry compared are the committed ones. No row: another
// process holds an unexpired lease, or the webhook is gone.
MATCH (w:Webhook {id: $id})
SET w._lock = true
REMOVE w._lock
WITH w
WHERE w.lease_owner IS NULL OR w.lease_owner = $owner OR w.lease_until < datetime.realtime()
SET w.lease_owner = $owner, w.lease_until = datetime.realtime() + duration({milliseconds: $ttl_ms})
RETURN w.id AS id, w.url AS url, w.types AS types, w.event_types AS event_types, w.secret AS secret,
       w.cursor AS cursor
