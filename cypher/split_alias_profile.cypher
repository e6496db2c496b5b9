MATCH (a:Alias {urn: $urn})
OPTIONAL MATCH (a)-[:BELONGS_TO]->(p:Profile)
RETURN a.urn AS urn, p.id AS profile_id, coalesce(a.blocked, false) AS blocked
