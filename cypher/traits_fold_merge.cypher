// Traits fold, merge (cypher/merge_components.cypher runs right after it, in the same transaction): the
// summaries of the merged profiles are folded into the survivor's: O(1) in the size of either, no event or
// session touched. The merged profiles' sessions keep tf_in = their old profile's id, whose handle belongs to
// the survivor from now on, so they count as folded in (ingest_round.cypher, step 7a).
// Flat `tf_*` properties (the summary of graph_model/trait_fold.py):
//   tf_events, tf_sessions          counts (tf_sessions on profiles only)
//   tf_first; tf_last, tf_last_id   min event time; the latest event by (time, id)
//   tf_types, tf_type_counts        events per type
//   tf_lk, tf_lt, tf_li, tf_lv      latest slots: key, time, event id, value ('in:<key>' trait inputs with their
//                                   JSON value; 'page', 'touch', 'device' with '', read from the event)
//   tf_ek, tf_et, tf_ei, tf_ev      earliest slots, the same ('touch')
// Parameters: $survivor_id, $merged_ids.
// The block `apply` is the one in ingest_round.cypher's step 7, twice there (keep the three alike): Cypher
// has no functions, and one node must be one row of one clause for its reads to see its writes.
MATCH (survivor:Profile {id: $survivor_id})
UNWIND $merged_ids AS merged_id
MATCH (merged:Profile {id: merged_id})
WHERE merged <> survivor
WITH survivor, collect(merged) AS merged
CALL (merged) {
  UNWIND merged AS s
  UNWIND range(0, size(coalesce(s.tf_lk, [])) - 1) AS i
  WITH s.tf_lk[i] AS k, s.tf_lt[i] AS t, s.tf_li[i] AS id, s.tf_lv[i] AS v
  ORDER BY k, t DESC, id DESC
  WITH k, head(collect({k: k, t: t, id: id, v: v})) AS best
  RETURN collect(best) AS latest
}
CALL (merged) {
  UNWIND merged AS s
  UNWIND range(0, size(coalesce(s.tf_ek, [])) - 1) AS i
  WITH s.tf_ek[i] AS k, s.tf_et[i] AS t, s.tf_ei[i] AS id, s.tf_ev[i] AS v
  ORDER BY k, t, id
  WITH k, head(collect({k: k, t: t, id: id, v: v})) AS best
  RETURN collect(best) AS earliest
}
CALL (merged) {
  UNWIND merged AS s
  UNWIND range(0, size(coalesce(s.tf_types, [])) - 1) AS i
  WITH s.tf_types[i] AS type, sum(s.tf_type_counts[i]) AS n
  RETURN collect(type) AS types, collect(n) AS type_counts
}
CALL (merged) {
  UNWIND merged AS s
  WITH s WHERE s.tf_last IS NOT NULL
  ORDER BY s.tf_last DESC, s.tf_last_id DESC
  RETURN head(collect(s)) AS newest
}
WITH survivor AS t, {
  n: reduce(n = 0, s IN merged | n + coalesce(s.tf_events, 0)), units: reduce(n = 0, s IN merged | n + coalesce(s.tf_sessions, 0)),
  first: reduce(m = null, s IN merged | CASE WHEN m IS NULL OR s.tf_first < m THEN s.tf_first ELSE m END),
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
RETURN count(*) AS folded
