MATCH (s:Source {id: $id})
RETURN s.id AS id, s.name AS name, s.enabled AS enabled, s.created_at AS created_at
