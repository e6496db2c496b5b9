// Every event bound to a profile with what trait computation needs from scratch: the raw properties and
// context, the stored user agent and protected IP (enrichment is run again over them), and the trait inputs.
// For `idgraph traits verify` and tests; the API computes traits in profile_traits.
MATCH (p:Profile {id: $profile_id})
CALL (p) {
  MATCH (s:Session)-[:BELONGS_TO]->(p)
  RETURN count(s) AS session_count
}
CALL (p) {
  OPTIONAL MATCH (p)<-[:BELONGS_TO]-()<-[:BOUND_TO]-(e:Event)
  RETURN collect(CASE WHEN e IS NULL THEN null ELSE {
    id: e.id, type: e.type, time: e.time, trait_keys: coalesce(e.trait_keys, []),
    trait_values: coalesce(e.trait_values, []), properties_json: e.properties_json,
    context_json: e.context_json, user_agent: e.user_agent, client_ip: e.client_ip
  } END) AS events
}
RETURN p.id AS id, session_count, events
