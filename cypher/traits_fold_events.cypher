// Traits fold, ingestion (graph_model/trait_fold.py is the same fold in Python): run in the request's write
// transaction after its last round, it folds the events the request wrote into the summary of the anchor each
// is bound to (its session, or the profile id handle) and of that anchor's profile. Flat `tf_*` properties:
//   tf_events, tf_sessions          counts (tf_sessions on profiles only)
//   tf_first; tf_last, tf_last_id   min event time; the latest event by (time, id)
//   tf_types, tf_type_counts        events per type
//   tf_lk, tf_lt, tf_li, tf_lv      latest slots: key, time, event id, value ('in:<key>' trait inputs with their
//                                   JSON value; 'page', 'touch', 'device' with '', read from the event)
//   tf_ek, tf_et, tf_ei, tf_ev      earliest slots, the same ('touch')
// Folding is idempotent per event: an event carries tf_folded once folded, so a repeat (the dedup key MERGEd
// onto a stored event) or a retried transaction never counts twice.
//
// Parameters:
//   $event_ids    [string]  the ids of the events the request answered with (created or repeats)
//   $session_ids  [string]  the sessions the request named
//
// The block `apply` (fold the map `add` into node `t`) appears three times, identically (keep them alike, and
// alike with traits_fold_merge.cypher): Cypher has no functions, and one node must be one row of one clause
// for its reads to see its writes.
//
// step 1: a session whose summary is not in its profile's yet (new there: attached by this request, or moved
// by rule 4 of the identity rules) is folded in whole and counted. tf_in names the profile it was folded into;
// a merge keeps it true (the merged id's handle belongs to the survivor), a recompute sets it.
CALL () {
  UNWIND $session_ids AS sid
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
// step 2: the events not folded yet, with the slot entries each contributes, grouped by anchor and by profile
// (one row per node folded into).
CALL () {
  UNWIND $event_ids AS eid
  MATCH (e:Event {id: eid})-[:BOUND_TO]->(anchor)
  WHERE e.tf_folded IS NULL
  SET e.tf_folded = true
  WITH DISTINCT e, anchor
  OPTIONAL MATCH (anchor)-[:BELONGS_TO]->(p:Profile)
  WITH e, [anchor] + CASE WHEN p IS NULL THEN [] ELSE [p] END AS targets
  UNWIND targets AS t
  WITH t, collect(e) AS events
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
RETURN 1 AS folded
