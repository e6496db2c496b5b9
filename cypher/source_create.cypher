// Create a source; `created` is false when the id already exists (the caller answers 409).
MERGE (s:Source {id: $id})
  ON CREATE SET s.name = $name, s.enabled = true, s.created_at = $now, s.request_id = $request_id
RETURN s.id AS id, s.name AS name, s.enabled AS enabled, s.created_at AS created_at,
       s.request_id = $request_id AS created
