// A change delivered (or abandoned): its attempt recorded and the webhook's feed position moved past it, in
// one transaction, if this process still holds the webhook's lease (renewed with it). No row: the lease was
// lost, nothing is written, and whoever holds it now delivers the change again.
MATCH (w:Webhook {id: $webhook_id})
SET w._lock = true
REMOVE w._lock
WITH w
WHERE w.lease_owner = $owner
SET w.cursor = CASE WHEN w.cursor < $seq THEN $seq ELSE w.cursor END,
    w.lease_until = datetime.realtime() + duration({milliseconds: $ttl_ms})
CREATE (d:WebhookDelivery {
  id: $id, webhook_id: $webhook_id, delivery_id: $delivery_id, seq: $seq, change_type: $change_type,
  profile_id: $profile_id, attempt: $attempt, outcome: $outcome, status_code: $status_code, error: $error,
  duration_ms: $duration_ms, at: datetime.realtime()
})
RETURN w.cursor AS cursor
