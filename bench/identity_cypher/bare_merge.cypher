// The floor for a linking request that merges two components, written by hand in one statement: a new
// session with one event names alias $a and alias $b; union by size re-points every member of the smaller
// profile (sessions, aliases, its id handle) to the larger one, whose size and clock take the merged one's,
// and removes it; the session and the event link both aliases; a profile-merged audit event goes on the
// survivor's id handle. What the API's merge writes besides (cypher/merge_components.cypher,
// ingest_round.cypher step 6), without the identity rules, the locks or the reads that decide it.
MATCH (a1:Alias {urn: $a})-[:BELONGS_TO]->(p1:Profile)
MATCH (a2:Alias {urn: $b})-[:BELONGS_TO]->(p2:Profile)
WITH a1, a2, CASE WHEN p1.size >= p2.size THEN p1 ELSE p2 END AS survivor,
     CASE WHEN p1.size >= p2.size THEN p2 ELSE p1 END AS merged
CALL (merged, survivor) {
  MATCH (m)-[r:BELONGS_TO]->(merged)
  DELETE r
  CREATE (m)-[:BELONGS_TO]->(survivor)
  SET m.profile_id = survivor.id
}
SET survivor.size = survivor.size + merged.size + 1,
    survivor.clock = CASE WHEN coalesce(merged.clock, 0) > coalesce(survivor.clock, 0) THEN merged.clock ELSE coalesce(survivor.clock, 0) END + 1
WITH a1, a2, survivor, merged
DETACH DELETE merged
WITH a1, a2, survivor
MATCH (h:ProfileId {id: survivor.id})
CREATE (s:Session {id: $session_id, source_id: 'bench', created_at: datetime($now), first_seen: datetime($now),
                   last_seen: datetime($now), profile_less: false, context_json: '{}', profile_id: survivor.id})
CREATE (s)-[:BELONGS_TO]->(survivor)
CREATE (e:Event {id: $event_id, key: 'bench|id|' + $event_id, type: 'link', source_id: 'bench', dialect: 'bench',
                 session_id: $session_id, time: datetime($now), received_at: datetime($now), properties_json: '{}',
                 context_json: '{}', system: false, identity_seq: survivor.clock})
CREATE (e)-[:BOUND_TO]->(s)
CREATE (s)-[:HAS_ALIAS {created_at: datetime($now), event_id: $event_id}]->(a1)
CREATE (s)-[:HAS_ALIAS {created_at: datetime($now), event_id: $event_id}]->(a2)
CREATE (e)-[:HAS_ALIAS]->(a1)
CREATE (e)-[:HAS_ALIAS]->(a2)
CREATE (x:Event:SystemEvent {id: $audit_id, key: 'system:' + $audit_id, type: 'profile-merged', system: true,
                             time: datetime($now), received_at: datetime($now), source_id: 'bench',
                             properties_json: '{}', linking_event_id: $event_id})
CREATE (x)-[:ABOUT]->(h)
CREATE (x)-[:NAMES]->(a1)
CREATE (x)-[:NAMES]->(a2)
RETURN survivor.id AS survivor
