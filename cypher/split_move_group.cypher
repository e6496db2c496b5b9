// Give a group of members a profile of its own: under a handle id the group already holds (a profile that
// is coming back) or a new one, re-pointing its sessions, aliases and handles.
MATCH (old:Profile {id: $old_id})
MERGE (h:ProfileId {id: $new_id})
  ON CREATE SET h.created_at = $now, h.profile_id = $new_id
CREATE (np:Profile {id: $new_id, created_at: $now, size: 0})
WITH old, np, h
CALL (np) {
  UNWIND $session_ids AS sid
  MATCH (m:Session {id: sid})-[r:BELONGS_TO]->(:Profile)
  DELETE r
  CREATE (m)-[:BELONGS_TO]->(np)
  SET m.profile_id = np.id
  RETURN count(*) AS sessions
}
CALL (np) {
  UNWIND $alias_urns AS urn
  MATCH (m:Alias {urn: urn})-[r:BELONGS_TO]->(:Profile)
  DELETE r
  CREATE (m)-[:BELONGS_TO]->(np)
  SET m.profile_id = np.id
  RETURN count(*) AS aliases
}
CALL (np, h) {
  OPTIONAL MATCH (h)-[r:BELONGS_TO]->(:Profile)
  DELETE r
  CREATE (h)-[:BELONGS_TO]->(np)
  SET h.profile_id = np.id
  RETURN count(*) AS own_handle
}
CALL (np) {
  UNWIND $handle_ids AS hid
  MATCH (m:ProfileId {id: hid})-[r:BELONGS_TO]->(:Profile)
  WHERE hid <> np.id
  DELETE r
  CREATE (m)-[:BELONGS_TO]->(np)
  SET m.profile_id = np.id
  RETURN count(*) AS handles
}
// A new handle must be held by evidence too, or a later split would cut it off: its first session claims it,
// or, with no session in the group, it names the group's alias.
CALL (h) {
  UNWIND $claim_session_ids AS sid
  MATCH (s:Session {id: sid})
  MERGE (s)-[:CLAIMED]->(h)
  RETURN count(*) AS claims
}
CALL (h) {
  UNWIND $claim_alias_urns AS urn
  MATCH (a:Alias {urn: urn})
  MERGE (h)-[:HAS_ALIAS]->(a)
  RETURN count(*) AS alias_claims
}
WITH old, np, sessions + aliases + own_handle + handles AS moved
SET np.size = moved, old.size = old.size - moved + CASE WHEN $new_handle THEN 1 ELSE 0 END
RETURN moved
