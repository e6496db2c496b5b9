// The shared flags as the replay decided them (a weak alias that took part in a refused join is shared).
// Parameters: $shared (urns to mark), $not_shared (urns to clear).
CALL () {
  UNWIND $shared AS urn
  MATCH (a:Alias {urn: urn})
  SET a.shared = true
}
CALL () {
  UNWIND $not_shared AS urn
  MATCH (a:Alias {urn: urn})
  WHERE a.shared
  REMOVE a.shared
}
RETURN 1 AS done
