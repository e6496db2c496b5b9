// Whether a webhook exists.
MATCH (w:Webhook {id: $id})
RETURN w.id AS id
