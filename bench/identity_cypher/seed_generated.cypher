// A chunk of a component in the shape the ingestion service writes, generated here rather than sent: sessions
// $first .. $first + $sessions - 1 of profile $profile_id (made by seed_component), each claiming the id
// handle and naming $per_session aliases, with $events events bound to it; every member BELONGS_TO the
// profile with profile_id set, and the profile's size counts them.
MATCH (p:Profile {id: $profile_id})
MATCH (h:ProfileId {id: $profile_id})
UNWIND range($first, $first + $sessions - 1) AS i
CREATE (s:Session {id: $tag + '-s' + i, source_id: 'bench', created_at: datetime(), first_seen: datetime(),
                   last_seen: datetime(), profile_less: false, context_json: '{}', profile_id: $profile_id})
CREATE (s)-[:BELONGS_TO]->(p)
CREATE (s)-[:CLAIMED {created_at: datetime()}]->(h)
WITH p, s, i
CALL (p, s, i) {
  UNWIND range(i * $per_session, (i + 1) * $per_session - 1) AS j
  CREATE (a:Alias {urn: 'urn:device_id:' + $tag + '-' + j, type: 'device_id', value: $tag + '-' + j,
                   created_at: datetime(), first_seen: datetime(), last_seen: datetime(), profile_id: $profile_id})
  CREATE (a)-[:BELONGS_TO]->(p)
  CREATE (s)-[:HAS_ALIAS {created_at: datetime()}]->(a)
  RETURN count(a) AS aliases
}
CALL (s) {
  UNWIND range(1, $events) AS k
  CREATE (e:Event {id: randomUUID(), type: 'page-view', source_id: 'bench', session_id: s.id, time: datetime(),
                   received_at: datetime(), properties_json: '{}', context_json: '{}', system: false})
  SET e.key = 'bench|id|' + e.id
  CREATE (e)-[:BOUND_TO]->(s)
  RETURN count(e) AS events
}
WITH p, count(s) AS sessions, sum(aliases) AS aliases
SET p.size = p.size + sessions + aliases
RETURN p.size AS size
