// Aliases arrive sorted by URN, so concurrent writers lock them in one order. The SET on match takes the
// alias's write lock: its profile cannot change under this transaction.
UNWIND $aliases AS al
MERGE (a:Alias {urn: al.urn})
  ON CREATE SET
    a.type = al.type,
    a.value = al.value,
    a.created_at = $now,
    a.first_seen = coalesce(al.first_seen, $now),
    a.last_seen = coalesce(al.last_seen, $now)
  ON MATCH SET
    a.first_seen = CASE WHEN al.first_seen < a.first_seen THEN al.first_seen ELSE a.first_seen END,
    a.last_seen = CASE WHEN al.last_seen > a.last_seen THEN al.last_seen ELSE a.last_seen END
WITH a
OPTIONAL MATCH (a)-[:BELONGS_TO]->(p:Profile)
RETURN a.urn AS urn, p.id AS profile_id
