// Traits fold, recompute: what the fold needs of every event bound to these anchors (sessions by id, profile id
// handles by id), for graph_model/trait_fold.py to summarise them again (app/services/trait_folds.py).
// Parameters: $session_ids, $handle_ids.
CALL () {
  UNWIND $session_ids AS sid
  MATCH (s:Session {id: sid})
  RETURN 'session' AS kind, s AS anchor
  UNION ALL
  UNWIND $handle_ids AS hid
  MATCH (h:ProfileId {id: hid})
  RETURN 'handle' AS kind, h AS anchor
}
CALL (anchor) {
  OPTIONAL MATCH (e:Event)-[:BOUND_TO]->(anchor)
  RETURN collect(CASE WHEN e IS NULL THEN null ELSE {
    id: e.id, type: e.type, time: e.time, trait_keys: coalesce(e.trait_keys, []),
    trait_values: coalesce(e.trait_values, []), page_url: e.page_url, utm_source: e.utm_source,
    utm_medium: e.utm_medium, utm_campaign: e.utm_campaign, utm_term: e.utm_term, utm_content: e.utm_content,
    ua_browser: e.ua_browser, ua_os: e.ua_os
  } END) AS events
}
RETURN kind, anchor.id AS id, events
