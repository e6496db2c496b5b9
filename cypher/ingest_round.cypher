// One round of ingestion (app/services/ingestion.py, IngestionService): the lock protocol's steps and the
// commit of an identity plan, in one round trip. Each step does nothing when its parameter is empty, null or
// false, so one statement serves the first round, the further lock rounds and the final commit. The
// parameters are built in app/services/ingest_plan.py: RoundParams and the structs it holds, field for
// field.
// Times are ISO 8601 text that datetime() reads: the driver's packing of datetime values costs more.
//
// Parameters: name, type (? for null allowed), the step that reads it, what it is.
//   $source_id            string    steps 1, 3, 6a, 6g, the source of what this round creates
//   $now                  string    every step that writes, the request's time (received_at, created_at);
//                                   6a and 6b read `created_at = $now` as "this request created it"
//   $limited_types        [string]  step 4, the alias types merge protection limits
//   $events               [map]     step 1, events to store (EventDoc): id, key (the dedup key), type, time,
//                                   original_time (or null), received_at (or null: $now), external_id,
//                                   session_id, properties_json, context_json, trait_keys, trait_values
//                                   (JSON text each), enriched (flat properties set as they are)
//   $request_id           string    step 1, stamped on the events this run creates; an event answers
//                                   created = true when it carries this run's
//   $dialect              string    step 1, stored on the events
//   $lock_ids             [string]  step 2, profile ids an earlier round named, to lock (in id order)
//   $lock_named           boolean   step 2, also lock the profiles the session, $urns and $claimed_id
//                                   belong to now
//   $session_id           string?   steps 2 and 4, the session whose profile is read
//   $urns                 [string]  steps 2, 4 and 5, the aliases whose profiles are read
//   $claimed_id           string?   steps 2 and 4, a profile id the client claims
//   $create_members       boolean   step 3, create $new_session and $new_aliases if new
//   $only_if_all_created  boolean   step 3, ... but only when every event of $events was created here
//   $new_session          map?      step 3 (SessionDoc): id, first_seen, last_seen (ISO text or null),
//                                   profile_less
//   $new_aliases          [map]     step 3 (AliasDoc): urn, type, value, first_seen, last_seen
//   $plans                [map]     steps 5 and 6 (Commit), each for the state its `when` names:
//                                     when, session (a SessionDoc or null), session_id, touch_aliases
//                                     (AliasDocs), new_profile_id, profile_id, attach_urns, linked_urns,
//                                     refused_urns, claimed_ids, shared_urns, clock_ids, evidence_event_id,
//                                     system_events (id, type, about_id, names_urns, linking_event_id,
//                                     properties_json)
//   $bind_events          [map]     step 6f (EventBinding): id, linked_urns, refused_urns; the same for every
//                                   plan, so sent once
//
// Steps (each marked `// step N` below):
//   1. deduplicate the request's events;
//   2. lock the profiles involved, in id order;
//   3. create the new session and aliases, once those locks are held;
//   4. read the identity state: where the session, each alias and the claimed id belong now;
//   5. choose the first plan whose condition that state meets;
//   6. carry it out (a-h), and write the change feed's entries for it (i);
//   7. fold the events bound into the traits summaries (graph_model/trait_fold.py).
// It answers one row: stored, locked, created, session_profile, aliases, blocked, claimed_profile, profiles,
// shared, session_aliases, committed (the chosen plan's `when`, or null) and committed_profile (RoundRow in ingest_plan.py).
//
// Repetitions kept, as Cypher cannot share them without changing what runs:
// - the Session MERGE of step 3 and of step 6a, with the same ON CREATE SET (keep the two alike). Step 3
//   creates the session under the profile locks and before the read, so that a concurrent writer of the same
//   session waits on it and the read sees what that writer committed; step 6a runs after the plan is chosen
//   and creates the session a profile-less batch binds (step 3 never runs for those). Cypher has no way to
//   run one subquery at two points of the pipeline.
// - the throwaway write lock (`SET x._lock = true REMOVE x._lock`) in step 2 (twice), 6a and 6b, and in
//   ingest_lock_profiles. Step 2 locks $lock_ids first and only then reads what to lock for $lock_named; one
//   UNWIND over both would read before holding the first locks. 6a and 6b lock other nodes (a session, an
//   alias) at other points.
// - the reads of the session's, the claimed id's and the aliases' profiles in step 2 and again in step 4:
//   step 2 reads what to lock, step 4 re-reads once the locks are held, which is what the protocol trusts.
// - step 6g's system-event writes and record_system_events.cypher (split's audit): two statements.
// step 1: deduplicate the request's events on their unique key: a repeat MERGEs onto the stored event and
// comes back with created = false.
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
      e.original_time = datetime(ev.original_time),
      e.received_at = datetime(coalesce(ev.received_at, $now)),
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
// step 2: lock profiles, in id order (a profile's lock is the write lock of its id handle, see
// ingest_lock_profiles): $lock_ids, named by an earlier round, and with $lock_named the profiles the session,
// the aliases and the claimed id belong to now.
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
// step 3: create the session and the aliases that are new, once those locks are held. Existing ones are not
// touched here; their times are widened in step 6, under their profile's lock. With $only_if_all_created the
// step is skipped when an event was a repeat: the caller built the members' first/last seen from all events,
// and only created events may count (it creates them next round).
WITH stored, locked, all(x IN stored WHERE x.created) AS all_created
WITH stored, locked, all_created, $create_members AND (NOT $only_if_all_created OR all_created) AS create
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
// step 4: read where the session, each alias and the claimed id belong now, and what merge protection and
// union by size need of each profile named: its size and its aliases of the limited types (a seek on the
// (profile_id, type) index). The caller trusts the answer once every profile named is locked.
OPTIONAL MATCH (:Session {id: $session_id})-[:BELONGS_TO]->(sp:Profile)
CALL () {
  UNWIND $urns AS urn
  MATCH (a:Alias {urn: urn})
  OPTIONAL MATCH (a)-[:BELONGS_TO]->(p:Profile)
  RETURN collect([a.urn, p.id]) AS aliases, collect(CASE WHEN a.blocked THEN a.urn END) AS blocked,
         collect(CASE WHEN a.shared THEN a.urn END) AS shared
}
// the aliases the session already links in its profile: its own evidence for rule 2 of the identity rules
CALL (sp) {
  OPTIONAL MATCH (:Session {id: $session_id})-[:HAS_ALIAS]->(sa:Alias)
  WHERE sa.profile_id = sp.id
  RETURN collect(sa.urn) AS session_aliases
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
WITH stored, locked, create, all_created, sp.id AS session_profile, aliases, blocked, shared, session_aliases,
     cp.id AS claimed_profile, profiles, [pid IN [sp.id] + [pair IN aliases | pair[1]] WHERE pid IS NOT NULL] AS owners,
     create AND cp.id IS NULL AND size(blocked) = 0 AND size(shared) = 0 AND size(aliases) = size($urns) AS usual
// step 5: choose the first of $plans whose condition the state just read meets:
//   'always'       the caller's plan for a state an earlier round read and locked;
//   'all_created'  every event is new (a profile-less batch binds them all);
//   'unowned'      every event is new and nothing named belongs to a profile: a new visitor;
//   'one_owner'    every event is new and one profile, locked in step 2, owns every alias named and the
//                  session, if the session is not new: a returning visitor, in a session seen before or a
//                  new one. The plan's profile is that one.
// `usual` (above) is what the last two share: the members were created, no profile id is claimed, nothing
// is blocked or shared and every alias named exists. Plans other than 'always' are the caller's guesses at the usual
// states, so that most requests are one round trip; with none chosen the statement has only read, and the
// caller goes on with the state.
WITH *, [candidate IN $plans WHERE
  candidate.when = 'always'
  OR (candidate.when = 'all_created' AND all_created)
  OR (candidate.when = 'unowned' AND usual AND session_profile IS NULL
      AND all(pair IN aliases WHERE pair[1] IS NULL))
  OR (candidate.when = 'one_owner' AND usual AND owners[0] IN locked
      AND all(pid IN owners WHERE pid = owners[0]) AND all(pair IN aliases WHERE pair[1] IS NOT NULL))
][0] AS plan
WITH *, coalesce(plan.profile_id, CASE WHEN plan.when = 'one_owner' THEN owners[0] END) AS profile_id
// step 6: carry the chosen plan out.
// step 6a: the session: created if new (a profile-less batch's; the same ON CREATE as step 3), its first/last
// seen widened to this batch's event times, profile_less cleared once a batch binds it to a profile. 6a and
// 6b lock first, a throwaway property write, so the values compared are the committed ones, never a stale
// read that would lose a concurrent update. Members this request created, their created_at being its $now,
// already hold its times and are skipped.
CALL (plan) {
  UNWIND CASE WHEN plan.session IS NULL THEN [] ELSE [plan.session] END AS ns
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
// step 6b: the aliases' first/last seen widened.
CALL (plan) {
  UNWIND coalesce(plan.touch_aliases, []) AS al
  MATCH (a:Alias {urn: al.urn})
  WHERE NOT coalesce(a.created_at = datetime($now), false)
  SET a._lock = true
  REMOVE a._lock
  WITH a, al
  SET
    a.first_seen = CASE WHEN datetime(al.first_seen) < a.first_seen THEN datetime(al.first_seen) ELSE a.first_seen END,
    a.last_seen = CASE WHEN datetime(al.last_seen) > a.last_seen THEN datetime(al.last_seen) ELSE a.last_seen END
}
// step 6c: a new profile and its id handle, when the plan has no survivor.
CALL (plan) {
  UNWIND CASE WHEN plan.new_profile_id IS NULL THEN [] ELSE [plan.new_profile_id] END AS new_id
  CREATE (p:Profile {id: new_id, created_at: datetime($now), size: 1})
  CREATE (:ProfileId {id: new_id, profile_id: new_id, created_at: datetime($now)})-[:BELONGS_TO]->(p)
}
// step 6d: members with no profile yet (the session, aliases seen for the first time) bound to the profile.
CALL (plan, profile_id) {
  OPTIONAL MATCH (p:Profile {id: profile_id})
  WITH p WHERE p IS NOT NULL
  CALL (p, plan) {
    UNWIND plan.attach_urns AS urn
    MATCH (a:Alias {urn: urn})
    WHERE NOT (a)-[:BELONGS_TO]->(:Profile) AND NOT coalesce(a.blocked, false)
    CREATE (a)-[:BELONGS_TO]->(p)
    SET a.profile_id = p.id
    RETURN count(a) AS attached_aliases
  }
  CALL (p, plan) {
    OPTIONAL MATCH (s:Session {id: plan.session_id})
    WHERE NOT (s)-[:BELONGS_TO]->(:Profile)
    FOREACH (_ IN CASE WHEN s IS NULL THEN [] ELSE [1] END |
      CREATE (s)-[:BELONGS_TO]->(p)
      SET s.profile_id = p.id, s.profile_less = false)
    RETURN count(s) AS attached_sessions
  }
  SET p.size = p.size + attached_aliases + attached_sessions
}
// step 6d, clock: every profile this plan read and locked ($plans' clock_ids) and the one it committed to take
// one stamp, greater than any of them held: a per-profile Lamport clock. Two requests that touch a common
// profile are serialised by its lock, so the later one's stamp is greater; requests with no profile in common
// commute. The stamp goes on the events bound (6f) as identity_seq: the order the graph recorded, which a
// replay of the rules follows (no global counter, so no single hot spot).
CALL (plan, profile_id) {
  UNWIND CASE WHEN plan IS NULL OR profile_id IS NULL THEN [] ELSE coalesce(plan.clock_ids, []) + [profile_id] END AS pid
  WITH DISTINCT pid
  MATCH (n:Profile {id: pid})
  WITH collect(n) AS touched
  WITH touched, reduce(m = 0, x IN touched | CASE WHEN coalesce(x.clock, 0) > m THEN x.clock ELSE m END) + 1 AS next
  FOREACH (x IN touched | SET x.clock = next)
  RETURN CASE WHEN size(touched) = 0 THEN null ELSE next END AS stamp
}
// step 6e: the evidence that holds the component together, kept so it can be explained and re-derived: the
// anchor (the session, or the profile id handle when no session is stored) saw these aliases and claims;
// refused links under their own type, so they never join components.
OPTIONAL MATCH (session:Session {id: plan.session_id})
OPTIONAL MATCH (handle:ProfileId {id: profile_id})
WITH *, coalesce(session, handle) AS anchor
CALL (plan, profile_id, anchor) {
  WITH plan, anchor WHERE anchor IS NOT NULL AND profile_id IS NOT NULL
  CALL (plan, anchor) {
    UNWIND plan.linked_urns AS urn
    MATCH (a:Alias {urn: urn})
    MERGE (anchor)-[r:HAS_ALIAS]->(a)
      ON CREATE SET r.created_at = datetime($now), r.event_id = plan.evidence_event_id
  }
  CALL (plan, anchor) {
    UNWIND plan.refused_urns AS urn
    MATCH (a:Alias {urn: urn})
    MERGE (anchor)-[r:REFUSED_ALIAS]->(a)
      ON CREATE SET r.created_at = datetime($now), r.event_id = plan.evidence_event_id
  }
  CALL (plan, anchor) {
    UNWIND plan.claimed_ids AS claimed_id
    MATCH (h:ProfileId {id: claimed_id})
    WHERE h <> anchor
    MERGE (anchor)-[r:CLAIMED]->(h)
      ON CREATE SET r.created_at = datetime($now)
  }
}
// step 6f: the events this batch created ($bind_events, the same whichever plan is chosen) bound to the
// anchor and to the aliases each carried; `bound`, the event nodes, is what 6i and 7b go on with (looking
// each event up again by id cost more than the rest of those steps).
CALL (plan, anchor, stamp) {
  UNWIND CASE WHEN plan IS NULL THEN [] ELSE $bind_events END AS ev
  MATCH (e:Event {id: ev.id})
  SET e.identity_seq = stamp
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
  RETURN collect(e) AS bound
}
// step 6g: audit events (profile-merged, merge-refused) on the id handle they are about; never bound to a
// session, so no behavioural count sees them. Each also points at the aliases it names (NAMES), so erasing
// the profile that holds one of them erases the record too (the same writes as record_system_events).
CALL (plan) {
  UNWIND plan.system_events AS ev
  MATCH (h:ProfileId {id: ev.about_id})
  CREATE (e:Event:SystemEvent {
    id: ev.id, key: 'system:' + ev.id, type: ev.type, system: true, time: datetime($now), received_at: datetime($now),
    source_id: $source_id, properties_json: ev.properties_json, linking_event_id: ev.linking_event_id
  })
  CREATE (e)-[:ABOUT]->(h)
  WITH e, ev
  CALL (e, ev) {
    UNWIND ev.names_urns AS urn
    MATCH (a:Alias {urn: urn})
    CREATE (e)-[:NAMES]->(a)
  }
}
// step 6h: weak aliases that took part in a join the identity rules refused (rule 2) are shared from now on:
// they keep their links and make no new ones.
CALL (plan) {
  UNWIND coalesce(plan.shared_urns, []) AS urn
  MATCH (a:Alias {urn: urn})
  SET a.shared = true
}
// step 6i: the change feed (app/services/changes.py), written by this transaction under the profile locks it
// holds: profile-created or alias-added with the aliases the plan attached (6c, 6d); one entry per audit
// event of 6g that names a feed profile (feed_profile_id); an `event` entry for each event bound (6f) whose
// type a webhook asked for (the event types of the few Webhook nodes, read once). `at` is the server's clock read here,
// after every lock is held, which is what orders a profile's changes (README, Changes and webhooks); its
// 16 digits of microseconds begin `seq`, then a digit for the kind of change (graph_model/changes.py).
CALL (plan, profile_id) {
  WITH plan, profile_id WHERE plan IS NOT NULL AND profile_id IS NOT NULL
  CALL (plan, profile_id) {
    UNWIND plan.attach_urns AS urn
    MATCH (a:Alias {urn: urn})
    WHERE a.profile_id = profile_id
    RETURN collect(a) AS added
  }
  WITH plan, profile_id, added, plan.new_profile_id IS NOT NULL AS created, datetime.realtime() AS at
  WHERE created OR size(added) > 0
  CREATE (c:Change {
    seq: right('0000000000000000' + toString(at.epochSeconds * 1000000 + at.microsecond), 16)
         + CASE WHEN created THEN '1' ELSE '2' END + '-' + randomUUID(),
    type: CASE WHEN created THEN 'profile-created' ELSE 'alias-added' END,
    at: at, profile_id: profile_id, aliases: [a IN added | a.urn]
  })
  FOREACH (a IN added | CREATE (c)-[:NAMES]->(a))
}
CALL (plan) {
  UNWIND plan.system_events AS ev
  WITH ev, datetime.realtime() AS at
  WHERE ev.feed_profile_id IS NOT NULL
  CREATE (c:Change {
    seq: right('0000000000000000' + toString(at.epochSeconds * 1000000 + at.microsecond), 16)
         + CASE ev.type WHEN 'merge-refused' THEN '3' WHEN 'profile-merged' THEN '4' WHEN 'profile-split' THEN '5'
           ELSE '6' END + '-' + randomUUID(),
    type: ev.type, at: at, profile_id: ev.feed_profile_id, details_json: ev.properties_json
  })
  WITH c, ev
  CALL (c, ev) {
    UNWIND ev.names_urns AS urn
    MATCH (a:Alias {urn: urn})
    CREATE (c)-[:NAMES]->(a)
  }
}
CALL (plan, profile_id, bound) {
  WITH plan, profile_id, bound WHERE plan IS NOT NULL AND profile_id IS NOT NULL AND size(bound) > 0
  OPTIONAL MATCH (w:Webhook)
  WITH profile_id, bound, reduce(types = [], wanted IN collect(w.event_types) | types + wanted) AS wanted
  UNWIND bound AS e
  WITH profile_id, e WHERE e.type IN wanted
  WITH profile_id, e, datetime.realtime() AS at
  CREATE (:Change {
    seq: right('0000000000000000' + toString(at.epochSeconds * 1000000 + at.microsecond), 16) + '8-'
         + randomUUID(),
    type: 'event', at: at, profile_id: profile_id, event_id: e.id, event_type: e.type
  })
}
// step 7 (traits fold): the events this round bound (6f) folded into the summary of their anchor and of its
// profile, and a session that came into its profile here (6d, or rule 4's move) folded in whole and counted:
// the summaries are flat tf_* properties (listed in cypher/traits_fold_merge.cypher, whose `apply` block is
// the one below, twice: keep the three alike); an event is folded once (tf_folded), so a repeat or a retried
// transaction never counts twice. Here, not in a statement of its own, so the fold costs no round trip.
// step 7a: the session, if its summary is not in its profile's yet
CALL (plan) {
  UNWIND CASE WHEN plan IS NULL OR plan.session_id IS NULL THEN [] ELSE [plan.session_id] END AS sid
  MATCH (s:Session {id: sid})-[:BELONGS_TO]->(p:Profile)
  WHERE s.tf_in IS NULL OR NOT EXISTS { MATCH (:ProfileId {id: s.tf_in})-[:BELONGS_TO]->(p) }
  SET s.tf_in = p.id
  WITH p, collect(s) AS sessions
  CALL (sessions) {
    UNWIND sessions AS s
    UNWIND range(0, size(coalesce(s.tf_lk, [])) - 1) AS i
    WITH s.tf_lk[i] AS k, s.tf_lt[i] AS t, s.tf_li[i] AS id, s.tf_lv[i] AS v
    ORDER BY k, t DESC, id DESC
    WITH k, head(collect({k: k, t: t, id: id, v: v})) AS best
    RETURN collect(best) AS latest
  }
  CALL (sessions) {
    UNWIND sessions AS s
    UNWIND range(0, size(coalesce(s.tf_ek, [])) - 1) AS i
    WITH s.tf_ek[i] AS k, s.tf_et[i] AS t, s.tf_ei[i] AS id, s.tf_ev[i] AS v
    ORDER BY k, t, id
    WITH k, head(collect({k: k, t: t, id: id, v: v})) AS best
    RETURN collect(best) AS earliest
  }
  CALL (sessions) {
    UNWIND sessions AS s
    UNWIND range(0, size(coalesce(s.tf_types, [])) - 1) AS i
    WITH s.tf_types[i] AS type, sum(s.tf_type_counts[i]) AS n
    RETURN collect(type) AS types, collect(n) AS type_counts
  }
  CALL (sessions) {
    UNWIND sessions AS s
    WITH s WHERE s.tf_last IS NOT NULL
    ORDER BY s.tf_last DESC, s.tf_last_id DESC
    RETURN head(collect(s)) AS newest
  }
  WITH p AS t, {
    n: reduce(n = 0, s IN sessions | n + coalesce(s.tf_events, 0)), units: size(sessions),
    first: reduce(m = null, s IN sessions | CASE WHEN m IS NULL OR s.tf_first < m THEN s.tf_first ELSE m END),
    last: newest.tf_last, last_id: newest.tf_last_id, types: types, type_counts: type_counts,
    l: latest, e: earliest
  } AS add
  // apply
  CALL (t, add) {
    WITH t, add,
         coalesce(t.tf_types, []) AS types, coalesce(t.tf_type_counts, []) AS counts,
         coalesce(t.tf_lk, []) AS lk, coalesce(t.tf_lt, []) AS lt, coalesce(t.tf_li, []) AS li, coalesce(t.tf_lv, []) AS lv,
         coalesce(t.tf_ek, []) AS ek, coalesce(t.tf_et, []) AS et, coalesce(t.tf_ei, []) AS ei, coalesce(t.tf_ev, []) AS ev,
         add.last IS NOT NULL AND (t.tf_last IS NULL OR add.last > t.tf_last
                                   OR (add.last = t.tf_last AND add.last_id > t.tf_last_id)) AS newer,
         add.first IS NOT NULL AND (t.tf_first IS NULL OR add.first < t.tf_first) AS earlier
    WITH t, add, types, counts, lk, lt, li, lv, ek, et, ei, ev, newer, earlier,
         [i IN range(0, size(lk) - 1) |
           head([x IN add.l WHERE x.k = lk[i] AND (x.t > lt[i] OR (x.t = lt[i] AND x.id > li[i]))])] AS lrep,
         [x IN add.l WHERE NOT x.k IN lk] AS lnew,
         [i IN range(0, size(ek) - 1) |
           head([x IN add.e WHERE x.k = ek[i] AND (x.t < et[i] OR (x.t = et[i] AND x.id < ei[i]))])] AS erep,
         [x IN add.e WHERE NOT x.k IN ek] AS enew
    SET t.tf_events = coalesce(t.tf_events, 0) + add.n,
        t.tf_sessions = coalesce(t.tf_sessions, 0) + add.units,
        t.tf_first = CASE WHEN earlier THEN add.first ELSE t.tf_first END,
        t.tf_last_id = CASE WHEN newer THEN add.last_id ELSE t.tf_last_id END,
        t.tf_last = CASE WHEN newer THEN add.last ELSE t.tf_last END,
        t.tf_types = types + [j IN range(0, size(add.types) - 1) WHERE NOT add.types[j] IN types | add.types[j]],
        t.tf_type_counts = [i IN range(0, size(types) - 1) |
                             counts[i] + coalesce(head([j IN range(0, size(add.types) - 1)
                                                        WHERE add.types[j] = types[i] | add.type_counts[j]]), 0)]
                           + [j IN range(0, size(add.types) - 1) WHERE NOT add.types[j] IN types | add.type_counts[j]],
        t.tf_lk = lk + [x IN lnew | x.k],
        t.tf_lt = [i IN range(0, size(lk) - 1) | CASE WHEN lrep[i] IS NULL THEN lt[i] ELSE lrep[i].t END] + [x IN lnew | x.t],
        t.tf_li = [i IN range(0, size(lk) - 1) | CASE WHEN lrep[i] IS NULL THEN li[i] ELSE lrep[i].id END] + [x IN lnew | x.id],
        t.tf_lv = [i IN range(0, size(lk) - 1) | CASE WHEN lrep[i] IS NULL THEN lv[i] ELSE lrep[i].v END] + [x IN lnew | x.v],
        t.tf_ek = ek + [x IN enew | x.k],
        t.tf_et = [i IN range(0, size(ek) - 1) | CASE WHEN erep[i] IS NULL THEN et[i] ELSE erep[i].t END] + [x IN enew | x.t],
        t.tf_ei = [i IN range(0, size(ek) - 1) | CASE WHEN erep[i] IS NULL THEN ei[i] ELSE erep[i].id END] + [x IN enew | x.id],
        t.tf_ev = [i IN range(0, size(ek) - 1) | CASE WHEN erep[i] IS NULL THEN ev[i] ELSE erep[i].v END] + [x IN enew | x.v]
  }
}
// step 7b: the events bound to the anchor by this round (6f) and not folded yet (tf_folded): their summary,
// computed once, folded into the anchor and into its profile
CALL (anchor, bound) {
  WITH anchor, bound WHERE anchor IS NOT NULL
  UNWIND bound AS e
  WITH anchor, e WHERE e.tf_folded IS NULL
  SET e.tf_folded = true
  WITH anchor, collect(e) AS events
  CALL (events) {
    UNWIND events AS e
    UNWIND [i IN range(0, size(coalesce(e.trait_keys, [])) - 1) |
              {k: 'in:' + e.trait_keys[i], t: e.time, id: e.id, v: e.trait_values[i]}]
           + CASE WHEN e.page_url IS NOT NULL THEN [{k: 'page', t: e.time, id: e.id, v: ''}] ELSE [] END
           + CASE WHEN e.utm_source IS NOT NULL OR e.utm_medium IS NOT NULL OR e.utm_campaign IS NOT NULL
                       OR e.utm_term IS NOT NULL OR e.utm_content IS NOT NULL
                  THEN [{k: 'touch', t: e.time, id: e.id, v: ''}] ELSE [] END
           + CASE WHEN e.ua_browser IS NOT NULL OR e.ua_os IS NOT NULL
                  THEN [{k: 'device', t: e.time, id: e.id, v: ''}] ELSE [] END AS x
    WITH x ORDER BY x.k, x.t DESC, x.id DESC
    WITH x.k AS k, head(collect(x)) AS best
    RETURN collect(best) AS latest
  }
  CALL (events) {
    UNWIND events AS e
    WITH e WHERE e.utm_source IS NOT NULL OR e.utm_medium IS NOT NULL OR e.utm_campaign IS NOT NULL
                 OR e.utm_term IS NOT NULL OR e.utm_content IS NOT NULL
    ORDER BY e.time, e.id
    WITH head(collect(e)) AS e
    RETURN CASE WHEN e IS NULL THEN [] ELSE [{k: 'touch', t: e.time, id: e.id, v: ''}] END AS earliest
  }
  CALL (events) {
    UNWIND events AS e
    WITH e.type AS type, count(*) AS n
    RETURN collect(type) AS types, collect(n) AS type_counts
  }
  CALL (events) {
    UNWIND events AS e
    WITH e ORDER BY e.time DESC, e.id DESC
    RETURN head(collect(e)) AS newest, min(e.time) AS first
  }
  OPTIONAL MATCH (anchor)-[:BELONGS_TO]->(p:Profile)
  UNWIND [anchor] + CASE WHEN p IS NULL THEN [] ELSE [p] END AS t
  WITH t, {
    n: size(events), units: 0, first: first, last: newest.time, last_id: newest.id,
    types: types, type_counts: type_counts, l: latest, e: earliest
  } AS add
  // apply
  CALL (t, add) {
    WITH t, add,
         coalesce(t.tf_types, []) AS types, coalesce(t.tf_type_counts, []) AS counts,
         coalesce(t.tf_lk, []) AS lk, coalesce(t.tf_lt, []) AS lt, coalesce(t.tf_li, []) AS li, coalesce(t.tf_lv, []) AS lv,
         coalesce(t.tf_ek, []) AS ek, coalesce(t.tf_et, []) AS et, coalesce(t.tf_ei, []) AS ei, coalesce(t.tf_ev, []) AS ev,
         add.last IS NOT NULL AND (t.tf_last IS NULL OR add.last > t.tf_last
                                   OR (add.last = t.tf_last AND add.last_id > t.tf_last_id)) AS newer,
         add.first IS NOT NULL AND (t.tf_first IS NULL OR add.first < t.tf_first) AS earlier
    WITH t, add, types, counts, lk, lt, li, lv, ek, et, ei, ev, newer, earlier,
         [i IN range(0, size(lk) - 1) |
           head([x IN add.l WHERE x.k = lk[i] AND (x.t > lt[i] OR (x.t = lt[i] AND x.id > li[i]))])] AS lrep,
         [x IN add.l WHERE NOT x.k IN lk] AS lnew,
         [i IN range(0, size(ek) - 1) |
           head([x IN add.e WHERE x.k = ek[i] AND (x.t < et[i] OR (x.t = et[i] AND x.id < ei[i]))])] AS erep,
         [x IN add.e WHERE NOT x.k IN ek] AS enew
    SET t.tf_events = coalesce(t.tf_events, 0) + add.n,
        t.tf_sessions = coalesce(t.tf_sessions, 0) + add.units,
        t.tf_first = CASE WHEN earlier THEN add.first ELSE t.tf_first END,
        t.tf_last_id = CASE WHEN newer THEN add.last_id ELSE t.tf_last_id END,
        t.tf_last = CASE WHEN newer THEN add.last ELSE t.tf_last END,
        t.tf_types = types + [j IN range(0, size(add.types) - 1) WHERE NOT add.types[j] IN types | add.types[j]],
        t.tf_type_counts = [i IN range(0, size(types) - 1) |
                             counts[i] + coalesce(head([j IN range(0, size(add.types) - 1)
                                                        WHERE add.types[j] = types[i] | add.type_counts[j]]), 0)]
                           + [j IN range(0, size(add.types) - 1) WHERE NOT add.types[j] IN types | add.type_counts[j]],
        t.tf_lk = lk + [x IN lnew | x.k],
        t.tf_lt = [i IN range(0, size(lk) - 1) | CASE WHEN lrep[i] IS NULL THEN lt[i] ELSE lrep[i].t END] + [x IN lnew | x.t],
        t.tf_li = [i IN range(0, size(lk) - 1) | CASE WHEN lrep[i] IS NULL THEN li[i] ELSE lrep[i].id END] + [x IN lnew | x.id],
        t.tf_lv = [i IN range(0, size(lk) - 1) | CASE WHEN lrep[i] IS NULL THEN lv[i] ELSE lrep[i].v END] + [x IN lnew | x.v],
        t.tf_ek = ek + [x IN enew | x.k],
        t.tf_et = [i IN range(0, size(ek) - 1) | CASE WHEN erep[i] IS NULL THEN et[i] ELSE erep[i].t END] + [x IN enew | x.t],
        t.tf_ei = [i IN range(0, size(ek) - 1) | CASE WHEN erep[i] IS NULL THEN ei[i] ELSE erep[i].id END] + [x IN enew | x.id],
        t.tf_ev = [i IN range(0, size(ek) - 1) | CASE WHEN erep[i] IS NULL THEN ev[i] ELSE erep[i].v END] + [x IN enew | x.v]
  }
}
// The state read (step 4) and the plan carried out (steps 5 and 6), if any.
RETURN stored, locked, create AS created, session_profile, aliases, blocked, claimed_profile, profiles, shared,
       session_aliases, plan.when AS committed, profile_id AS committed_profile
