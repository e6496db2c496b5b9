// The rest of one ingestion batch in one round trip, once the lock protocol (ingest_identity_round) holds the
// lock of every profile involved and the identity plan is made (app/ingestion.py, IngestionService._write).
// Merges (merge_components) have already run. Each step does nothing when its parameter is empty or null:
//  1. the session: created if new (a profile-less batch's), its first/last seen widened to this batch's event
//     times, profile_less cleared once a batch binds it to a profile;
//  2. the aliases' first/last seen widened. (1 and 2 lock first, a throwaway property write, so the values
//     compared are the committed ones, never a stale read that would lose a concurrent update. Members this
//     request created, their created_at being its $now, already hold its times and are skipped: the lock
//     and the writes were a quarter of the statement's time for a new visitor);
//  3. a new profile and its id handle, when the plan has no survivor;
//  4. members with no profile yet (the session, aliases seen for the first time) bound to the profile;
//  5. the evidence that holds the component together, kept so it can be explained and re-derived: the
//     anchor (the session, or the profile id handle when no session is stored) saw these aliases and claims;
//     refused links under their own type, so they never join components;
//  6. the events this batch created bound to the anchor and to the aliases each carried;
//  7. audit events (profile-merged, merge-refused) on the id handle they are about; never bound to a session,
//     so no behavioural count sees them.
CALL () {
  UNWIND CASE WHEN $session IS NULL THEN [] ELSE [$session] END AS ns
  MERGE (s:Session {id: ns.id})
    ON CREATE SET
      s.source_id = $source_id,
      s.created_at = datetime($now),
      s.first_seen = coalesce(datetime(ns.first_seen), datetime($now)),
      s.last_seen = coalesce(datetime(ns.last_seen), datetime($now)),
      s.profile_less = ns.profile_less,
      s.context_json = '{}'
  WITH s, ns
  WHERE NOT coalesce(s.created_at = datetime($now), false)
  SET s._lock = true
  REMOVE s._lock
  WITH s, ns
  SET
    s.first_seen = CASE WHEN datetime(ns.first_seen) < s.first_seen THEN datetime(ns.first_seen) ELSE s.first_seen END,
    s.last_seen = CASE WHEN datetime(ns.last_seen) > s.last_seen THEN datetime(ns.last_seen) ELSE s.last_seen END,
    s.profile_less = s.profile_less AND ns.profile_less
}
CALL () {
  UNWIND $touch_aliases AS al
  MATCH (a:Alias {urn: al.urn})
  WHERE NOT coalesce(a.created_at = datetime($now), false)
  SET a._lock = true
  REMOVE a._lock
  WITH a, al
  SET
    a.first_seen = CASE WHEN datetime(al.first_seen) < a.first_seen THEN datetime(al.first_seen) ELSE a.first_seen END,
    a.last_seen = CASE WHEN datetime(al.last_seen) > a.last_seen THEN datetime(al.last_seen) ELSE a.last_seen END
}
CALL () {
  UNWIND CASE WHEN $new_profile_id IS NULL THEN [] ELSE [$new_profile_id] END AS new_id
  CREATE (p:Profile {id: new_id, created_at: datetime($now), size: 1})
  CREATE (:ProfileId {id: new_id, profile_id: new_id, created_at: datetime($now)})-[:BELONGS_TO]->(p)
}
OPTIONAL MATCH (p:Profile {id: $profile_id})
CALL (p) {
  WITH p WHERE p IS NOT NULL
  CALL (p) {
    UNWIND $attach_urns AS urn
    MATCH (a:Alias {urn: urn})
    WHERE NOT (a)-[:BELONGS_TO]->(:Profile) AND NOT coalesce(a.blocked, false)
    CREATE (a)-[:BELONGS_TO]->(p)
    SET a.profile_id = p.id
    RETURN count(a) AS aliases
  }
  CALL (p) {
    OPTIONAL MATCH (s:Session {id: $session_id})
    WHERE NOT (s)-[:BELONGS_TO]->(:Profile)
    FOREACH (_ IN CASE WHEN s IS NULL THEN [] ELSE [1] END |
      CREATE (s)-[:BELONGS_TO]->(p)
      SET s.profile_id = p.id, s.profile_less = false)
    RETURN count(s) AS sessions
  }
  SET p.size = p.size + aliases + sessions
}
OPTIONAL MATCH (session:Session {id: $session_id})
OPTIONAL MATCH (handle:ProfileId {id: $profile_id})
WITH coalesce(session, handle) AS anchor
CALL (anchor) {
  WITH anchor WHERE anchor IS NOT NULL AND $profile_id IS NOT NULL
  CALL (anchor) {
    UNWIND $linked_urns AS urn
    MATCH (a:Alias {urn: urn})
    MERGE (anchor)-[r:HAS_ALIAS]->(a)
      ON CREATE SET r.created_at = datetime($now), r.event_id = $evidence_event_id
  }
  CALL (anchor) {
    UNWIND $refused_urns AS urn
    MATCH (a:Alias {urn: urn})
    MERGE (anchor)-[r:REFUSED_ALIAS]->(a)
      ON CREATE SET r.created_at = datetime($now), r.event_id = $evidence_event_id
  }
  CALL (anchor) {
    UNWIND $claimed_ids AS claimed_id
    MATCH (h:ProfileId {id: claimed_id})
    WHERE h <> anchor
    MERGE (anchor)-[r:CLAIMED]->(h)
      ON CREATE SET r.created_at = datetime($now)
  }
}
CALL (anchor) {
  UNWIND $bind_events AS ev
  MATCH (e:Event {id: ev.id})
  FOREACH (_ IN CASE WHEN anchor IS NULL THEN [] ELSE [1] END |
    CREATE (e)-[:BOUND_TO]->(anchor))
  WITH e, ev
  CALL (e, ev) {
    UNWIND ev.linked_urns AS urn
    MATCH (a:Alias {urn: urn})
    CREATE (e)-[:HAS_ALIAS]->(a)
  }
  CALL (e, ev) {
    UNWIND ev.refused_urns AS urn
    MATCH (a:Alias {urn: urn})
    CREATE (e)-[:REFUSED_ALIAS]->(a)
  }
}
CALL () {
  UNWIND $system_events AS ev
  MATCH (h:ProfileId {id: ev.about_id})
  CREATE (e:Event:SystemEvent {
    id: ev.id, key: 'system:' + ev.id, type: ev.type, system: true, time: datetime($now), received_at: datetime($now),
    source_id: $source_id, properties_json: ev.properties_json, linking_event_id: ev.linking_event_id
  })
  CREATE (e)-[:ABOUT]->(h)
}
RETURN anchor IS NOT NULL AS anchored
