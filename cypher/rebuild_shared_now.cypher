// The aliases marked shared now, to compare with the replay's.
// Parameters: none.
MATCH (a:Alias)
WHERE a.shared
RETURN a.urn AS urn
