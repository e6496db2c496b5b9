CREATE INDEX webhook_delivery_at IF NOT EXISTS FOR (n:WebhookDelivery) ON (n.at)
