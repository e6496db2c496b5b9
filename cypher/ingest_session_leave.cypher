// A session leaves the profile its evidence was refused from (identity rules v2, rule 4), before the commit
// round binds it to the profile of its highest-priority accepted alias. Its events go with it (they are bound
// to the session); its links to the aliases it leaves behind, and its events' links to them, become refused
// links, so no split or rebuild joins the two again through them; a claim of the old profile's id likewise.
// The caller holds the old profile's lock.
// Parameters: $session_id, $profile_id (the profile it leaves).
// step 1: detach the session from the profile
MATCH (s:Session {id: $session_id})-[r:BELONGS_TO]->(old:Profile {id: $profile_id})
DELETE r
SET old.size = old.size - 1, s.profile_id = null
WITH s, old
// step 2: the session's links to aliases that stay in the old profile become refused links
CALL (s, old) {
  MATCH (s)-[h:HAS_ALIAS]->(a:Alias)
  WHERE a.profile_id = old.id
  MERGE (s)-[x:REFUSED_ALIAS]->(a)
    ON CREATE SET x.created_at = h.created_at, x.event_id = h.event_id
  DELETE h
  RETURN count(*) AS session_links
}
// step 3: so do its events' links to them
CALL (s, old) {
  MATCH (s)<-[:BOUND_TO]-(e:Event)-[h:HAS_ALIAS]->(a:Alias)
  WHERE a.profile_id = old.id
  CREATE (e)-[:REFUSED_ALIAS]->(a)
  DELETE h
  RETURN count(*) AS event_links
}
// step 4: a claim of one of the old profile's ids is kept as a refused claim
CALL (s, old) {
  MATCH (s)-[c:CLAIMED]->(h:ProfileId)-[:BELONGS_TO]->(old)
  CREATE (s)-[:REFUSED_CLAIM {created_at: c.created_at}]->(h)
  DELETE c
  RETURN count(*) AS claims
}
RETURN session_links, event_links, claims
