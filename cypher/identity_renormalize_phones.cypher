// `idgraph identity renormalize`: a page of the stored aliases whose URN starts with $prefix (`urn:phone:`),
// in URN order after $after (keyset; '' for the first page), at most $limit, each with its profile.
MATCH (a:Alias)
WHERE a.urn STARTS WITH $prefix AND a.urn > $after
WITH a
ORDER BY a.urn
LIMIT $limit
OPTIONAL MATCH (a)-[:BELONGS_TO]->(p:Profile)
RETURN a.urn AS urn, a.value AS value, p.id AS profile_id, coalesce(a.blocked, false) AS blocked,
       coalesce(a.shared, false) AS shared
