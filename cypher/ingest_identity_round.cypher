// One round of the ingestion's lock protocol (app/ingestion.py, IngestionService._lock_involved) in one round
// trip. Each step does nothing when its parameter is empty or false. The first round of a request runs them
// all, which is the whole protocol unless a merge moves a member meanwhile; a later round locks what the
// previous one named, creates what the first could not, and reads again:
//  1. deduplicate the request's events on their unique key: a repeat MERGEs onto the stored event and comes
//     back with created = false;
//  2. lock profiles, in id order (a profile's lock is the write lock of its id handle, see
//     ingest_lock_profiles): $lock_ids, named by an earlier round, and with $lock_named the profiles the
//     session, the aliases and the claimed id belong to now;
//  3. create the session and the aliases that are new, once those locks are held. Existing ones are not
//     touched here; their times are widened in ingest_commit, under their profile's lock. With
//     $only_if_all_created the step is skipped when an event was a repeat: the caller built the members'
//     first/last seen from all events, and only created events may count (it creates them next round);
//  4. read where the session, each alias and the claimed id belong now, and what merge protection and
//     union by size need of each profile named: its size and its aliases of the limited types (a seek on
//     the (profile_id, type) index). The caller trusts the answer once every profile named is locked.
CALL () {
  UNWIND $events AS ev
  MERGE (e:Event {key: ev.key})
    ON CREATE SET
      e.id = ev.id,
      e.request_id = $request_id,
      e.source_id = $source_id,
      e.dialect = $dialect,
      e.type = ev.type,
      e.time = datetime(ev.time),
      e.received_at = datetime($now),
      e.external_id = ev.external_id,
      e.session_id = ev.session_id,
      e.properties_json = ev.properties_json,
      e.context_json = ev.context_json,
      e.trait_keys = ev.trait_keys,
      e.trait_values = ev.trait_values,
      e += ev.enriched,
      e.system = false
  RETURN collect({key: ev.key, id: e.id, created: e.request_id = $request_id}) AS stored
}
CALL () {
  UNWIND $lock_ids AS pid
  MATCH (h:ProfileId {id: pid})
  SET h._lock = true
  REMOVE h._lock
}
CALL () {
  UNWIND CASE WHEN $lock_named THEN [1] ELSE [] END AS go
  OPTIONAL MATCH (:Session {id: $session_id})-[:BELONGS_TO]->(sp:Profile)
  OPTIONAL MATCH (:ProfileId {id: $claimed_id})-[:BELONGS_TO]->(cp:Profile)
  CALL () {
    UNWIND $urns AS urn
    MATCH (:Alias {urn: urn})-[:BELONGS_TO]->(p:Profile)
    RETURN collect(p.id) AS alias_profiles
  }
  UNWIND [sp.id, cp.id] + alias_profiles AS pid
  WITH DISTINCT pid
  WHERE pid IS NOT NULL
  WITH pid
  ORDER BY pid
  MATCH (h:ProfileId {id: pid})
  SET h._lock = true
  REMOVE h._lock
  RETURN collect(pid) AS locked
}
WITH stored, locked, $create_members AND (NOT $only_if_all_created OR all(x IN stored WHERE x.created)) AS create
CALL (create) {
  UNWIND CASE WHEN create AND $new_session IS NOT NULL THEN [$new_session] ELSE [] END AS ns
  MERGE (s:Session {id: ns.id})
    ON CREATE SET
      s.source_id = $source_id,
      s.created_at = datetime($now),
      s.first_seen = coalesce(datetime(ns.first_seen), datetime($now)),
      s.last_seen = coalesce(datetime(ns.last_seen), datetime($now)),
      s.profile_less = ns.profile_less,
      s.context_json = '{}'
}
CALL (create) {
  UNWIND CASE WHEN create THEN $new_aliases ELSE [] END AS al
  MERGE (a:Alias {urn: al.urn})
    ON CREATE SET
      a.type = al.type,
      a.value = al.value,
      a.created_at = datetime($now),
      a.first_seen = coalesce(datetime(al.first_seen), datetime($now)),
      a.last_seen = coalesce(datetime(al.last_seen), datetime($now))
}
OPTIONAL MATCH (:Session {id: $session_id})-[:BELONGS_TO]->(sp:Profile)
CALL () {
  UNWIND $urns AS urn
  MATCH (a:Alias {urn: urn})
  OPTIONAL MATCH (a)-[:BELONGS_TO]->(p:Profile)
  RETURN collect([a.urn, p.id]) AS aliases, collect(CASE WHEN a.blocked THEN a.urn END) AS blocked
}
OPTIONAL MATCH (:ProfileId {id: $claimed_id})-[:BELONGS_TO]->(cp:Profile)
CALL (sp, cp, aliases) {
  UNWIND [sp.id, cp.id] + [pair IN aliases | pair[1]] AS pid
  WITH DISTINCT pid
  MATCH (p:Profile {id: pid})
  CALL (p) {
    MATCH (a:Alias)
    WHERE a.profile_id = p.id AND a.type IN $limited_types
    RETURN collect(a.type + ':' + a.value) AS limited
  }
  RETURN collect({id: p.id, size: p.size, limited: limited}) AS profiles
}
RETURN stored, locked, create AS created, sp.id AS session_profile, aliases, blocked, cp.id AS claimed_profile,
       profiles
