MATCH (s:Source {id: $id})
SET s.enabled = coalesce($enabled, s.enabled), s.name = coalesce($name, s.name)
RETURN s.id AS id, s.name AS name, s.enabled AS enabled, s.created_at AS created_at
