// The partition the quality bench scores: every alias and the profile it belongs to now.
MATCH (a:Alias)-[:BELONGS_TO]->(p:Profile)
RETURN a.urn AS urn, p.id AS profile_id
