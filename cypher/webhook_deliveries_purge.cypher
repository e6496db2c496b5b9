// Retention of the delivery record: at most $limit attempts older than $cutoff.
MATCH (d:WebhookDelivery)
WHERE d.at < datetime($cutoff)
WITH d
LIMIT $limit
DELETE d
RETURN count(*) AS deleted
