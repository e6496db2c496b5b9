// One page of a profile's events, newest first by (time, id): keyset pagination from the cursor
// ($after_time, $after_id: the last item of the previous page), so inserts meanwhile neither repeat nor skip
// an event. Resolves a merged-away id through its handle; no row when the id is unknown.
MATCH (:ProfileId {id: $id})-[:BELONGS_TO]->(p:Profile)
CALL (p) {
  OPTIONAL MATCH (p)<-[:BELONGS_TO]-(anchor)<-[:BOUND_TO]-(e:Event)
  WHERE ($type IS NULL OR e.type = $type)
    AND ($after_time IS NULL OR e.time < $after_time OR (e.time = $after_time AND e.id < $after_id))
  WITH e, anchor ORDER BY e.time DESC, e.id DESC LIMIT $limit
  CALL (e) {
    OPTIONAL MATCH (e)-[:HAS_ALIAS]->(a:Alias)
    WITH a ORDER BY a.urn
    RETURN collect(a.urn) AS aliases
  }
  RETURN collect(CASE WHEN e IS NULL THEN null ELSE {
    id: e.id, type: e.type, source_id: e.source_id, external_id: e.external_id, time: e.time,
    received_at: e.received_at, original_time: e.original_time, dialect: e.dialect, system: e.system,
    session_id: CASE WHEN anchor:Session THEN anchor.id ELSE null END,
    properties_json: e.properties_json, context_json: e.context_json, aliases: aliases
  } END) AS items
}
RETURN p.id AS profile_id, items
