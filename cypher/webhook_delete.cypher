// Remove a webhook and the record of its deliveries; no row when there is no such webhook.
MATCH (w:Webhook {id: $id})
CALL (w) {
  OPTIONAL MATCH (d:WebhookDelivery {webhook_id: w.id})
  DETACH DELETE d
  RETURN count(d) AS deliveries
}
DETACH DELETE w
RETURN deliveries
