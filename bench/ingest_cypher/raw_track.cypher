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
//
// Steps: 1 events, 2 session and aliases, 3 profile, 4 membership and evidence, 5 events bound, 6 the change
// feed's entry (ingest_round step 6i), 7 the traits fold (ingest_round step 7, graph_model/trait_fold.py).
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
  RETURN collect(m) AS attached
}
SET p.size = p.size + size(attached), p.clock = coalesce(p.clock, 0) + 1
FOREACH (_ IN CASE WHEN h IS NULL THEN [] ELSE [1] END | CREATE (s)-[:CLAIMED {created_at: datetime($now)}]->(h))
FOREACH (a IN aliases |
  MERGE (s)-[r:HAS_ALIAS]->(a)
    ON CREATE SET r.created_at = datetime($now), r.event_id = $events[0].id)
// step 5: the events bound to the session, stamped with the profile's clock
WITH events, s, p, h, attached
CALL (events, s, p) {
  UNWIND events AS e
  WITH e WHERE e.request_id = $request_id
  SET e.identity_seq = p.clock
  CREATE (e)-[:BOUND_TO]->(s)
  RETURN collect(e) AS bound
}
// step 6: the change feed: profile-created for a new profile (alias-added for aliases joining a known one),
// naming the aliases that joined; `seq` begins with `at` in 16 digits of microseconds, then the kind's digit
// (graph_model/changes.py). An `event` entry per event bound whose type a webhook asks for.
WITH s, p, h, bound, s IN attached AS joined, [m IN attached WHERE m <> s] AS added
CALL (p, h, added) {
  WITH p, h, added, datetime.realtime() AS at
  WHERE h IS NOT NULL OR size(added) > 0
  CREATE (c:Change {
    seq: right('0000000000000000' + toString(at.epochSeconds * 1000000 + at.microsecond), 16)
         + CASE WHEN h IS NOT NULL THEN '1' ELSE '2' END + '-' + randomUUID(),
    type: CASE WHEN h IS NOT NULL THEN 'profile-created' ELSE 'alias-added' END,
    at: at, profile_id: p.id, aliases: [a IN added | a.urn]
  })
  FOREACH (a IN added | CREATE (c)-[:NAMES]->(a))
}
CALL (p, bound) {
  UNWIND bound AS e
  WITH p, e WHERE EXISTS { MATCH (w:Webhook) WHERE e.type IN w.event_types }
  WITH p, e, datetime.realtime() AS at
  CREATE (:Change {
    seq: right('0000000000000000' + toString(at.epochSeconds * 1000000 + at.microsecond), 16) + '8-'
         + randomUUID(),
    type: 'event', at: at, profile_id: p.id, event_id: e.id, event_type: e.type
  })
}
// step 7: the traits fold: the bound events' summary (latest page, touch and device, earliest touch, counts
// by type, first and last) merged into the session's and the profile's flat tf_* properties; a session that
// joined the profile here counts as one of its sessions (tf_in). The events are marked folded.
CALL (s, p, bound, joined) {
  WITH s, p, bound, joined WHERE size(bound) > 0
  FOREACH (e IN bound | SET e.tf_folded = true)
  FOREACH (_ IN CASE WHEN joined THEN [1] ELSE [] END | SET s.tf_in = p.id)
  WITH s, p, bound, joined
  CALL (bound) {
    UNWIND bound AS e
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
  CALL (bound) {
    UNWIND bound AS e
    WITH e WHERE e.utm_source IS NOT NULL OR e.utm_medium IS NOT NULL OR e.utm_campaign IS NOT NULL
                 OR e.utm_term IS NOT NULL OR e.utm_content IS NOT NULL
    ORDER BY e.time, e.id
    WITH head(collect(e)) AS e
    RETURN CASE WHEN e IS NULL THEN [] ELSE [{k: 'touch', t: e.time, id: e.id, v: ''}] END AS earliest
  }
  CALL (bound) {
    UNWIND bound AS e
    WITH e.type AS type, count(*) AS n
    RETURN collect(type) AS types, collect(n) AS type_counts
  }
  CALL (bound) {
    UNWIND bound AS e
    WITH e ORDER BY e.time DESC, e.id DESC
    RETURN head(collect(e)) AS newest, min(e.time) AS first
  }
  UNWIND [s, p] AS t
  WITH t, {
    n: size(bound), units: CASE WHEN t = p AND joined THEN 1 ELSE 0 END, first: first, last: newest.time,
    last_id: newest.id, types: types, type_counts: type_counts, l: latest, e: earliest
  } AS add
  WITH t, add,
       coalesce(t.tf_types, []) AS types, coalesce(t.tf_type_counts, []) AS counts,
       coalesce(t.tf_lk, []) AS lk, coalesce(t.tf_lt, []) AS lt, coalesce(t.tf_li, []) AS li, coalesce(t.tf_lv, []) AS lv,
       coalesce(t.tf_ek, []) AS ek, coalesce(t.tf_et, []) AS et, coalesce(t.tf_ei, []) AS ei, coalesce(t.tf_ev, []) AS ev,
       t.tf_last IS NULL OR add.last > t.tf_last OR (add.last = t.tf_last AND add.last_id > t.tf_last_id) AS newer,
       t.tf_first IS NULL OR add.first < t.tf_first AS earlier
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
RETURN size(bound) AS events
