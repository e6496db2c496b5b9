// Where every alias and session belongs now: the partition a rebuild compares with its replay.
// Parameters: none.
MATCH (m)-[:BELONGS_TO]->(p:Profile)
WHERE m:Alias OR m:Session
RETURN CASE WHEN m:Alias THEN m.urn ELSE 'session:' + m.id END AS member, p.id AS profile_id, p.size AS size
