UNWIND $urns AS urn
OPTIONAL MATCH (a:Alias {urn: urn})
OPTIONAL MATCH (a)-[:BELONGS_TO]->(p:Profile)
RETURN urn, a IS NOT NULL AS known, p.id AS profile_id
