CREATE INDEX webhook_delivery_hook IF NOT EXISTS FOR (n:WebhookDelivery) ON (n.webhook_id, n.at)
