// Events bound to the given anchors (sessions, id handles), newest first, capped.
UNWIND $element_ids AS element_id
MATCH (m) WHERE elementId(m) = element_id
MATCH (e:Event)-[:BOUND_TO]->(m)
WITH e, m ORDER BY e.time DESC, e.id DESC LIMIT $limit
OPTIONAL MATCH (e)-[:HAS_ALIAS]->(a:Alias)
RETURN e.id AS id, e.type AS type, e.time AS time, elementId(m) AS anchor, collect(a.urn) AS aliases
