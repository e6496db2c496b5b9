// Move aliases and sessions into one profile (a new one when $create), keeping every size right: each member
// leaves its profile (size - 1) and joins the target (size + 1). A new profile gets its id handle, held by
// evidence as a split's is: its first session claims it, or with no session it names its first alias.
// Parameters: $target_id, $create, $session_ids, $alias_urns, $now.
// step 1: the target, created when asked
CALL () {
  UNWIND CASE WHEN $create THEN [1] ELSE [] END AS go
  CREATE (p:Profile {id: $target_id, created_at: datetime($now), size: 1})
  CREATE (h:ProfileId {id: $target_id, profile_id: $target_id, created_at: datetime($now)})-[:BELONGS_TO]->(p)
  WITH h
  CALL (h) {
    UNWIND $session_ids[0..1] AS sid
    MATCH (s:Session {id: sid})
    MERGE (s)-[:CLAIMED]->(h)
  }
  CALL (h) {
    UNWIND CASE WHEN size($session_ids) = 0 THEN $alias_urns[0..1] ELSE [] END AS urn
    MATCH (a:Alias {urn: urn})
    MERGE (h)-[:HAS_ALIAS]->(a)
  }
}
MATCH (target:Profile {id: $target_id})
// step 2: the members, each out of its profile and into the target
CALL (target) {
  UNWIND $session_ids AS sid
  MATCH (m:Session {id: sid})-[r:BELONGS_TO]->(old:Profile)
  WHERE old <> target
  DELETE r
  CREATE (m)-[:BELONGS_TO]->(target)
  SET m.profile_id = target.id, old.size = old.size - 1
  RETURN count(m) AS sessions
}
CALL (target) {
  UNWIND $alias_urns AS urn
  MATCH (m:Alias {urn: urn})-[r:BELONGS_TO]->(old:Profile)
  WHERE old <> target
  DELETE r
  CREATE (m)-[:BELONGS_TO]->(target)
  SET m.profile_id = target.id, old.size = old.size - 1
  RETURN count(m) AS aliases
}
SET target.size = target.size + sessions + aliases
RETURN sessions + aliases AS moved
