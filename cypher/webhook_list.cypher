// Every webhook (never its secret), oldest first.
MATCH (w:Webhook)
RETURN w.id AS id, w.url AS url, w.types AS types, w.event_types AS event_types, w.created_at AS created_at,
       w.cursor AS cursor
ORDER BY w.created_at, w.id
