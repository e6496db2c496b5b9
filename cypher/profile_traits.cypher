// Traits are computed, never stored: one traversal of the profile's events (bound through its sessions and id
// handles; system events hang off handles by ABOUT and are never seen), newest first by (time, id).
// Each trait input takes the latest event's value; last_page, UTM touches and device read the flat properties
// enrichment stored at ingestion (graph_model/enrichment.py). graph_model/traits.py is the same in Python.
MATCH (p:Profile {id: $profile_id})
CALL (p) {
  MATCH (p)<-[:BELONGS_TO]-()<-[:BOUND_TO]-(e:Event)
  WITH e ORDER BY e.time DESC, e.id DESC
  RETURN collect(e) AS events
}
CALL (events) {
  UNWIND events AS e
  WITH e.type AS type, count(*) AS n
  ORDER BY type
  RETURN collect([type, n]) AS by_type
}
CALL (events) {
  UNWIND events AS e
  WITH e WHERE size(coalesce(e.trait_keys, [])) > 0
  UNWIND range(0, size(e.trait_keys) - 1) AS i
  WITH e.trait_keys[i] AS key, e.trait_values[i] AS value
  WITH key, head(collect(value)) AS value
  ORDER BY key
  RETURN collect([key, value]) AS inputs
}
WITH events, by_type, inputs,
     head([e IN events WHERE e.page_url IS NOT NULL]) AS page,
     [e IN events WHERE e.utm_source IS NOT NULL OR e.utm_medium IS NOT NULL OR e.utm_campaign IS NOT NULL
                     OR e.utm_term IS NOT NULL OR e.utm_content IS NOT NULL] AS touches,
     head([e IN events WHERE e.ua_browser IS NOT NULL OR e.ua_os IS NOT NULL]) AS device
WITH events, by_type, inputs, page, device, head(touches) AS last_touch, last(touches) AS first_touch
RETURN size(events) AS event_count,
       last(events).time AS first_seen,
       head(events).time AS last_seen,
       by_type,
       inputs,
       page {url: page.page_url, referrer: page.page_referrer} AS last_page,
       first_touch {source: first_touch.utm_source, medium: first_touch.utm_medium,
                    campaign: first_touch.utm_campaign, term: first_touch.utm_term,
                    content: first_touch.utm_content} AS first_touch,
       last_touch {source: last_touch.utm_source, medium: last_touch.utm_medium,
                   campaign: last_touch.utm_campaign, term: last_touch.utm_term,
                   content: last_touch.utm_content} AS last_touch,
       device {browser: device.ua_browser, browser_version: device.ua_browser_version, os: device.ua_os,
               os_version: device.ua_os_version, type: device.ua_device} AS device
