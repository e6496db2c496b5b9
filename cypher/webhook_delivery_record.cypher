// One delivery attempt, as GET /webhooks/{id}/deliveries lists it.
CREATE (d:WebhookDelivery {
  id: $id, webhook_id: $webhook_id, delivery_id: $delivery_id, seq: $seq, change_type: $change_type,
  profile_id: $profile_id, attempt: $attempt, outcome: $outcome, status_code: $status_code, error: $error,
  duration_ms: $duration_ms, at: datetime.realtime()
})
RETURN d.id AS id
