// A profile by any id it ever had, with its traits fold (the flat tf_* summary, graph_model/trait_fold.py)
// and the enrichment properties of the few events the fold's slots name (last page, UTM touches, device):
// index seeks only, so its cost does not grow with the profile's events or sessions. `?fresh=true` answers
// from the traversal instead (profile_head + profile_traits), which stays the definition.
MATCH (:ProfileId {id: $id})-[:BELONGS_TO]->(p:Profile)
CALL (p) {
  MATCH (a:Alias)
  WHERE a.profile_id = p.id AND a.type IS NOT NULL AND (a)-[:BELONGS_TO]->(p)
  WITH a ORDER BY a.urn
  RETURN collect(a.urn) AS aliases
}
CALL (p) {
  MATCH (h:ProfileId)
  WHERE h.profile_id = p.id AND h.id <> p.id AND (h)-[:BELONGS_TO]->(p)
  WITH h ORDER BY h.id
  RETURN collect(h.id) AS merged_ids
}
CALL (p) {
  UNWIND [i IN range(0, size(coalesce(p.tf_lk, [])) - 1) WHERE NOT p.tf_lk[i] STARTS WITH 'in:' | p.tf_li[i]]
         + coalesce(p.tf_ei, []) AS eid
  WITH DISTINCT eid
  MATCH (e:Event {id: eid})
  RETURN collect({
    id: e.id, page_url: e.page_url, page_referrer: e.page_referrer, utm_source: e.utm_source,
    utm_medium: e.utm_medium, utm_campaign: e.utm_campaign, utm_term: e.utm_term, utm_content: e.utm_content,
    ua_browser: e.ua_browser, ua_browser_version: e.ua_browser_version, ua_os: e.ua_os,
    ua_os_version: e.ua_os_version, ua_device: e.ua_device
  }) AS slot_events
}
RETURN p.id AS id, p.created_at AS created_at, aliases, merged_ids, properties(p) AS fold, slot_events
