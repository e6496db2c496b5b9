// The raw baseline for one /track request of an anonymous visitor, new or returning: the graph delta the API
// writes for it (cypher/ingest_round.cypher, plans 'unowned' and 'one_owner'), written the way one would
// straight against Neo4j: one UNWIND statement, one round trip, no identity rules, no lock rounds. Times are
// ISO text that datetime() reads, as the app sends them. tests/api/test_raw_baseline.py asserts that this
// and the API leave the same nodes, relationships and properties for the same requests.
//
// Parameters:
//   $source_id, $dialect   string    the events' source and dialect
//   $now                   string    the write's time (created_at, the events' received_at if null)
//   $request_id            string    marks the events this request created
//   $session               map       id, first_seen, last_seen: the session and its events' span
//   $aliases               [map]     urn, type, value, first_seen, last_seen: the request's aliases
//   $events                [map]     id, key, type, time, received_at, external_id, properties_json,
//                                    context_json, trait_keys, trait_values, enriched
//   $new_profile_id        string    the profile's id if the visitor is new
// step 1: the events, deduplicated on their key
CALL () {
  UNWIND $events AS ev
  MERGE (e:Event {key: ev.key})
    ON CREATE SET
      e.id = ev.id, e.request_id = $request_id, e.source_id = $source_id, e.dialect = $dialect,
      e.type = ev.type, e.time = datetime(ev.time), e.received_at = datetime(coalesce(ev.received_at, $now)),
      e.external_id = ev.external_id, e.session_id = $session.id, e.properties_json = ev.properties_json,
      e.context_json = ev.context_json, e.trait_keys = ev.trait_keys, e.trait_values = ev.trait_values,
      e += ev.enriched, e.system = false
  RETURN collect(e) AS events
}
// step 2: the session and the aliases, created or their first/last seen widened
MERGE (s:Session {id: $session.id})
  ON CREATE SET
    s.source_id = $source_id, s.created_at = datetime($now), s.first_seen = datetime($session.first_seen),
    s.last_seen = datetime($session.last_seen), s.profile_less = false, s.context_json = '{}'
  ON MATCH SET
    s.first_seen = CASE WHEN datetime($session.first_seen) < s.first_seen THEN datetime($session.first_seen) ELSE s.first_seen END,
    s.last_seen = CASE WHEN datetime($session.last_seen) > s.last_seen THEN datetime($session.last_seen) ELSE s.last_seen END
WITH events, s
CALL (s) {
  UNWIND $aliases AS al
  MERGE (a:Alias {urn: al.urn})
    ON CREATE SET
      a.type = al.type, a.value = al.value, a.created_at = datetime($now),
      a.first_seen = datetime(al.first_seen), a.last_seen = datetime(al.last_seen)
    ON MATCH SET
      a.first_seen = CASE WHEN datetime(al.first_seen) < a.first_seen THEN datetime(al.first_seen) ELSE a.first_seen END,
      a.last_seen = CASE WHEN datetime(al.last_seen) > a.last_seen THEN datetime(al.last_seen) ELSE a.last_seen END
  RETURN collect(a) AS aliases
}
// step 3: the visitor's profile (the session's or an alias's), or a new one with its id handle
OPTIONAL MATCH (s)-[:BELONGS_TO]->(sp:Profile)
CALL (aliases) {
  UNWIND aliases AS a
  MATCH (a)-[:BELONGS_TO]->(ap:Profile)
  RETURN collect(ap)[0] AS ap
}
WITH events, s, aliases, coalesce(sp, ap) AS known
CALL (known) {
  WITH known WHERE known IS NOT NULL
  RETURN known AS p, null AS h
  UNION
  WITH known WHERE known IS NULL
  CREATE (p:Profile {id: $new_profile_id, created_at: datetime($now), size: 1})
  CREATE (h:ProfileId {id: $new_profile_id, profile_id: $new_profile_id, created_at: datetime($now)})-[:BELONGS_TO]->(p)
  RETURN p, h
}
// step 4: new members join it; the session claims a new profile's handle and names its aliases
CALL (p, s, aliases) {
  UNWIND [s] + aliases AS m
  WITH m WHERE NOT (m)-[:BELONGS_TO]->(:Profile)
  CREATE (m)-[:BELONGS_TO]->(p)
  SET m.profile_id = p.id
  RETURN count(m) AS attached
}
SET p.size = p.size + attached, p.clock = coalesce(p.clock, 0) + 1
FOREACH (_ IN CASE WHEN h IS NULL THEN [] ELSE [1] END | CREATE (s)-[:CLAIMED {created_at: datetime($now)}]->(h))
FOREACH (a IN aliases |
  MERGE (s)-[r:HAS_ALIAS]->(a)
    ON CREATE SET r.created_at = datetime($now), r.event_id = $events[0].id)
// step 5: the events bound to the session, stamped with the profile's clock
WITH events, s, p
UNWIND events AS e
WITH e, s, p WHERE e.request_id = $request_id
SET e.identity_seq = p.clock
CREATE (e)-[:BOUND_TO]->(s)
RETURN count(e) AS events
