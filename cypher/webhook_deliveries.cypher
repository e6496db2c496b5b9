// A webhook's delivery attempts, newest first.
MATCH (d:WebhookDelivery {webhook_id: $webhook_id})
RETURN d.id AS id, d.delivery_id AS delivery_id, d.seq AS seq, d.change_type AS change_type,
       d.profile_id AS profile_id, d.attempt AS attempt, d.outcome AS outcome, d.status_code AS status_code,
       d.error AS error, d.duration_ms AS duration_ms, d.at AS at
ORDER BY d.at DESC
LIMIT $limit
