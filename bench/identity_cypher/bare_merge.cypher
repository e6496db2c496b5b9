// The floor for a linking request that merges two components, written by hand in one statement: a new
// session with one event names alias $a and alias $b, which belong to two profiles. It writes the graph delta
// the service's merge writes (cypher/traits_fold_merge.cypher, merge_components.cypher, ingest_round.cypher
// step 6 and 7), asserted by tests/api/test_bare_merge_baseline.py: union by size (the larger profile
// survives, ties to the smaller id) re-points every member of the other one (sessions, aliases, its id
// handle) and removes it, after folding its traits summary into the survivor's; the survivor's size and
// clock; the new session and event, bound and linked to both aliases, whose first/last seen they widen; the
// profile-merged audit event about the merged profile's handle and its change feed entry; the traits fold of
// the event into the session's and the survivor's summaries. Left out: the identity rules, the locks and the
// reads that decide nothing here (deduplication of a new event, the lock rounds).
//
// Parameters: $a, $b (alias URNs, each of a profile), $session_id, $event_id, $audit_id, $request_id (the
// event's), $time (the event's time, ISO text), $now (the time of receipt, ISO text).
//
// step 1: the two profiles, survivor and merged (graph_model/identity.py: larger first, then smaller id)
MATCH (a1:Alias {urn: $a})-[:BELONGS_TO]->(p1:Profile)
MATCH (a2:Alias {urn: $b})-[:BELONGS_TO]->(p2:Profile)
WITH a1, a2, CASE WHEN p1.size > p2.size OR (p1.size = p2.size AND p1.id < p2.id) THEN [p1, p2] ELSE [p2, p1] END AS pair
WITH a1, a2, pair[0] AS survivor, pair[1] AS merged, pair[1].id AS merged_id,
     CASE WHEN a1.urn < a2.urn THEN [a1.urn, a2.urn] ELSE [a2.urn, a1.urn] END AS joining
// step 2: the merged summary folded into the survivor's (traits_fold_merge.cypher, for one merged profile)
CALL (survivor, merged) {
  WITH survivor, [merged] AS gone
  CALL (gone) {
    UNWIND gone AS s
    UNWIND range(0, size(coalesce(s.tf_lk, [])) - 1) AS i
    WITH s.tf_lk[i] AS k, s.tf_lt[i] AS t, s.tf_li[i] AS id, s.tf_lv[i] AS v
    ORDER BY k, t DESC, id DESC
    WITH k, head(collect({k: k, t: t, id: id, v: v})) AS best
    RETURN collect(best) AS latest
  }
  CALL (gone) {
    UNWIND gone AS s
    UNWIND range(0, size(coalesce(s.tf_ek, [])) - 1) AS i
    WITH s.tf_ek[i] AS k, s.tf_et[i] AS t, s.tf_ei[i] AS id, s.tf_ev[i] AS v
    ORDER BY k, t, id
    WITH k, head(collect({k: k, t: t, id: id, v: v})) AS best
    RETURN collect(best) AS earliest
  }
  CALL (gone) {
    UNWIND gone AS s
    UNWIND range(0, size(coalesce(s.tf_types, [])) - 1) AS i
    WITH s.tf_types[i] AS type, sum(s.tf_type_counts[i]) AS n
    RETURN collect(type) AS types, collect(n) AS type_counts
  }
  WITH survivor AS t, {
    n: coalesce(gone[0].tf_events, 0), units: coalesce(gone[0].tf_sessions, 0), first: gone[0].tf_first,
    last: gone[0].tf_last, last_id: gone[0].tf_last_id, types: types, type_counts: type_counts,
    l: latest, e: earliest
  } AS add
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
// step 3: union by size: the merged profile's members re-pointed, its size and clock taken, the profile removed
CALL (merged, survivor) {
  MATCH (m)-[r:BELONGS_TO]->(merged)
  DELETE r
  CREATE (m)-[:BELONGS_TO]->(survivor)
  SET m.profile_id = survivor.id
}
SET survivor.size = survivor.size + merged.size + 1,
    survivor.clock = CASE WHEN coalesce(merged.clock, 0) > coalesce(survivor.clock, 0) THEN merged.clock ELSE coalesce(survivor.clock, 0) END + 1
WITH a1, a2, survivor, merged, merged_id, joining
DETACH DELETE merged
// step 4: the session and the event, bound to the survivor and linked to both aliases, whose first/last
// seen the event's time widens
WITH a1, a2, survivor, merged_id, joining, datetime($time) AS time
CREATE (s:Session {id: $session_id, source_id: 'bench', created_at: datetime($now), first_seen: time,
                   last_seen: time, profile_less: false, context_json: '{}', profile_id: survivor.id})
CREATE (s)-[:BELONGS_TO]->(survivor)
CREATE (e:Event {id: $event_id, key: 'bench|id|' + $event_id, request_id: $request_id, type: 'link',
                 source_id: 'bench', dialect: 'bench', session_id: $session_id, time: time,
                 received_at: datetime($now), properties_json: '{}', context_json: '{}', trait_keys: [],
                 trait_values: [], system: false, identity_seq: survivor.clock})
CREATE (e)-[:BOUND_TO]->(s)
CREATE (s)-[:HAS_ALIAS {created_at: datetime($now), event_id: $event_id}]->(a1)
CREATE (s)-[:HAS_ALIAS {created_at: datetime($now), event_id: $event_id}]->(a2)
FOREACH (a IN [a1, a2] |
  SET a.first_seen = CASE WHEN time < a.first_seen THEN time ELSE a.first_seen END,
      a.last_seen = CASE WHEN time > a.last_seen THEN time ELSE a.last_seen END)
// step 5: the profile-merged audit event about the merged profile's id handle, and its change feed entry
// filed under the survivor, both naming the aliases that joined them
WITH a1, a2, survivor, merged_id, s, e, time,
     '{"survivor_id":"' + survivor.id + '","merged_id":"' + merged_id + '","linking_event_id":"' + $event_id
     + '","aliases":["' + joining[0] + '","' + joining[1] + '"]}' AS details
MATCH (h:ProfileId {id: merged_id})
CREATE (x:Event:SystemEvent {id: $audit_id, key: 'system:' + $audit_id, type: 'profile-merged', system: true,
                             time: datetime($now), received_at: datetime($now), source_id: 'bench',
                             properties_json: details, linking_event_id: $event_id})
CREATE (x)-[:ABOUT]->(h)
CREATE (x)-[:NAMES]->(a1)
CREATE (x)-[:NAMES]->(a2)
WITH a1, a2, survivor, s, e, time, details, datetime.realtime() AS at
CREATE (c:Change {
  seq: right('0000000000000000' + toString(at.epochSeconds * 1000000 + at.microsecond), 16) + '4-' + randomUUID(),
  type: 'profile-merged', at: at, profile_id: survivor.id, details_json: details
})
CREATE (c)-[:NAMES]->(a1)
CREATE (c)-[:NAMES]->(a2)
// the event's feed entry, if a webhook asks for its type
WITH survivor, s, e, time
CALL (survivor, e) {
  WITH survivor, e WHERE EXISTS { MATCH (w:Webhook) WHERE e.type IN w.event_types }
  WITH survivor, e, datetime.realtime() AS at
  CREATE (:Change {
    seq: right('0000000000000000' + toString(at.epochSeconds * 1000000 + at.microsecond), 16) + '8-' + randomUUID(),
    type: 'event', at: at, profile_id: survivor.id, event_id: e.id, event_type: e.type
  })
}
// step 6: the traits fold: the event's summary (its trait inputs, page, touch and device as the latest
// slots, its touch as the earliest) into the session's summary and the survivor's, where the session counts
// as one more session; the event marked folded, the session as folded into the survivor
SET e.tf_folded = true, s.tf_in = survivor.id
WITH survivor, s, e, time,
     e.utm_source IS NOT NULL OR e.utm_medium IS NOT NULL OR e.utm_campaign IS NOT NULL
       OR e.utm_term IS NOT NULL OR e.utm_content IS NOT NULL AS touch
WITH survivor, s, {
  n: 1, first: time, last: time, last_id: e.id, types: [e.type], type_counts: [1],
  l: [i IN range(0, size(e.trait_keys) - 1) | {k: 'in:' + e.trait_keys[i], t: time, id: e.id, v: e.trait_values[i]}]
     + CASE WHEN e.page_url IS NOT NULL THEN [{k: 'page', t: time, id: e.id, v: ''}] ELSE [] END
     + CASE WHEN touch THEN [{k: 'touch', t: time, id: e.id, v: ''}] ELSE [] END
     + CASE WHEN e.ua_browser IS NOT NULL OR e.ua_os IS NOT NULL THEN [{k: 'device', t: time, id: e.id, v: ''}] ELSE [] END,
  e: CASE WHEN touch THEN [{k: 'touch', t: time, id: e.id, v: ''}] ELSE [] END
} AS event
UNWIND [s, survivor] AS t
WITH t, event {.*, units: CASE WHEN t = survivor THEN 1 ELSE 0 END} AS add
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
RETURN t.id AS folded
