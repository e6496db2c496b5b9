// Retention: sessions that belong to no profile (profile-less traffic) and were last seen before $cutoff.
MATCH (s:Session)
WHERE s.last_seen < $cutoff
  AND NOT EXISTS { MATCH (s)-[:BELONGS_TO]->(:Profile) }
RETURN s.id AS id
LIMIT $limit
