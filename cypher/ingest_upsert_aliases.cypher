// Create the aliases that are new (in URN order, so concurrent creators queue in one order). Existing aliases
// are not touched here; their times are updated once their profile's lock is held (ingest_touch_aliases).
UNWIND $aliases AS al
MERGE (a:Alias {urn: al.urn})
  ON CREATE SET
    a.type = al.type,
    a.value = al.value,
    a.created_at = $now,
    a.first_seen = coalesce(al.first_seen, $now),
    a.last_seen = coalesce(al.last_seen, $now)
RETURN count(a) AS aliases
