// `idgraph identity renormalize`: the aliases $urns (one number's stored forms) as they are now, each with
// its profile; read again under the profile locks before a group is changed.
UNWIND $urns AS urn
MATCH (a:Alias {urn: urn})
OPTIONAL MATCH (a)-[:BELONGS_TO]->(p:Profile)
RETURN a.urn AS urn, a.value AS value, p.id AS profile_id, coalesce(a.blocked, false) AS blocked,
       coalesce(a.shared, false) AS shared
ORDER BY urn
