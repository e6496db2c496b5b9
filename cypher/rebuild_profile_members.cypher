// The aliases and sessions of some profiles, read again under their locks before a rebuild moves them.
// Parameters: $profile_ids.
UNWIND $profile_ids AS pid
MATCH (p:Profile {id: pid})
OPTIONAL MATCH (m)-[:BELONGS_TO]->(p)
WHERE m:Alias OR m:Session
RETURN p.id AS profile_id, collect(CASE WHEN m:Alias THEN m.urn ELSE 'session:' + m.id END) AS members
