MATCH (a:Alias {urn: $urn})
OPTIONAL MATCH (a)-[:BELONGS_TO]->(p:Profile)
RETURN a.urn AS urn, a.type AS type, a.value AS value, p.id AS profile_id,
       a.first_seen AS first_seen, a.last_seen AS last_seen, coalesce(a.shared, false) AS shared
