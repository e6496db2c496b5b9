MATCH (s:Session {id: $session_id})
OPTIONAL MATCH (s)-[:BELONGS_TO]->(p:Profile)
RETURN s.id AS id, p.id AS profile_id
