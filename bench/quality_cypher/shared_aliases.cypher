// The aliases marked shared (weak aliases that took part in a join the identity rules refused).
MATCH (a:Alias)
WHERE a.shared
RETURN a.urn AS urn
