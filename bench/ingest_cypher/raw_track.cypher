// The floor for one /track request of a new visitor: the same nodes and relationships the app writes
// (profile + id handle, session, alias, events deduplicated on their key, BELONGS_TO / HAS_ALIAS / BOUND_TO),
// in one statement, one round trip, no identity reads or locks.
CREATE (p:Profile {id: $profile_id, created_at: $now, size: 2})
CREATE (h:ProfileId {id: $profile_id, profile_id: $profile_id, created_at: $now})-[:BELONGS_TO]->(p)
MERGE (s:Session {id: $session_id})
  ON CREATE SET
    s.source_id = $source_id, s.created_at = $now, s.first_seen = $first, s.last_seen = $last,
    s.profile_less = false, s.context_json = '{}', s.profile_id = $profile_id
CREATE (s)-[:BELONGS_TO]->(p)
MERGE (a:Alias {urn: $urn})
  ON CREATE SET
    a.type = 'anonymous_id', a.value = $alias_value, a.created_at = $now, a.first_seen = $first,
    a.last_seen = $last, a.profile_id = $profile_id
CREATE (a)-[:BELONGS_TO]->(p)
CREATE (s)-[:HAS_ALIAS]->(a)
WITH s
UNWIND $events AS ev
MERGE (e:Event {key: ev.key})
  ON CREATE SET
    e.id = ev.id, e.request_id = $request_id, e.source_id = $source_id, e.dialect = 'tracardi',
    e.type = ev.type, e.time = ev.time, e.received_at = $now, e.external_id = ev.external_id,
    e.session_id = $session_id, e.properties_json = ev.properties_json, e.context_json = ev.context_json,
    e.trait_keys = [], e.trait_values = [], e += ev.enriched, e.system = false
CREATE (e)-[:BOUND_TO]->(s)
RETURN count(e) AS events
