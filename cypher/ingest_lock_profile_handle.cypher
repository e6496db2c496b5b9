// A profile id the client holds: lock its handle and say which live profile it resolves to.
MATCH (h:ProfileId {id: $profile_id})
SET h.last_claimed_at = $now
WITH h
MATCH (h)-[:BELONGS_TO]->(p:Profile)
RETURN p.id AS profile_id
