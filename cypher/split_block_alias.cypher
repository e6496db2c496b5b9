// Block an alias after the fact: it leaves its profile, never links anything again, and every link that
// named it is kept as BLOCKED_ALIAS (evidence of what was seen, no longer identity).
MATCH (a:Alias {urn: $urn})
OPTIONAL MATCH (a)-[b:BELONGS_TO]->(p:Profile)
DELETE b
SET p.size = p.size - 1, a.blocked = true, a.blocked_at = $now
REMOVE a.profile_id
WITH a
CALL (a) {
  MATCH (x)-[r:HAS_ALIAS|REFUSED_ALIAS]->(a)
  CREATE (x)-[:BLOCKED_ALIAS {created_at: r.created_at, event_id: r.event_id}]->(a)
  DELETE r
  RETURN count(*) AS links
}
RETURN links
