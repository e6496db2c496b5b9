// A webhook: where to POST, which changes and event types, its secret, and its feed position, which starts
// at the server's clock now: it receives the changes written from its registration on.
WITH datetime.realtime() AS at
CREATE (w:Webhook {
  id: $id, url: $url, types: $types, event_types: $event_types, secret: $secret, created_at: at,
  cursor: right('0000000000000000' + toString(at.epochSeconds * 1000000 + at.microsecond), 16)
})
RETURN w.id AS id, w.url AS url, w.types AS types, w.event_types AS event_types, w.created_at AS created_at
