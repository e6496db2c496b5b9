// One page of a profile's events, newest first by (time, id): keyset pagination from the cursor
// ($after_time, $after_id: the last item of the previous page), so inserts meanwhile neither repeat nor skip
// an event, and a merge keeps a cursor valid (it is a point in time, not a position). Resolves a merged-away
// id through its handle; no row when the id is unknown.
// Its cost does not grow with the profile's history: it reads only the anchors that can hold the page's
// events, found by the traits fold's tf_first / tf_last on each session (a seek on
// (profile_id, tf_last)):
//   - sessions entirely before the cursor, newest first by their latest event (in index order): each one's
//     latest event is in the page or after it, so the page's events come from the first $limit of them
//     and any that ties with the last of those;
//   - sessions that straddle the cursor time (one, or a few);
//   - the profile's id handles (events bound to the profile directly, as Segment's are).
// With a $type filter every session is read (the newest event of each type is not kept per session).
MATCH (:ProfileId {id: $id})-[:BELONGS_TO]->(p:Profile)
CALL (p) {
  CALL (p) {
    MATCH (s:Session)
    WHERE $type IS NULL AND s.profile_id = p.id
      AND s.tf_last < coalesce($after_time, datetime('9999-12-31T00:00:00Z'))
    WITH s ORDER BY s.profile_id DESC, s.tf_last DESC LIMIT $limit
    RETURN s AS anchor
    UNION
    // ... and every session whose latest event ties with the last of those (LIMIT cut among equals)
    MATCH (s:Session)
    WHERE $type IS NULL AND s.profile_id = p.id
      AND s.tf_last < coalesce($after_time, datetime('9999-12-31T00:00:00Z'))
    WITH s ORDER BY s.profile_id DESC, s.tf_last DESC LIMIT $limit
    WITH min(s.tf_last) AS edge
    MATCH (s:Session)
    WHERE s.profile_id = p.id AND s.tf_last = edge
    RETURN s AS anchor
    UNION
    MATCH (s:Session)
    WHERE $type IS NULL AND $after_time IS NOT NULL AND s.profile_id = p.id AND s.tf_last >= $after_time
      AND s.tf_first <= $after_time
    RETURN s AS anchor
    UNION
    MATCH (h:ProfileId)
    WHERE h.profile_id = p.id
    RETURN h AS anchor
    UNION
    MATCH (s:Session)-[:BELONGS_TO]->(p)
    WHERE $type IS NOT NULL
    RETURN s AS anchor
  }
  WITH p, anchor WHERE (anchor)-[:BELONGS_TO]->(p)
  MATCH (anchor)<-[:BOUND_TO]-(e:Event)
  WHERE ($type IS NULL OR e.type = $type)
    AND ($after_time IS NULL OR e.time < $after_time OR (e.time = $after_time AND e.id < $after_id))
  WITH e, anchor ORDER BY e.time DESC, e.id DESC LIMIT $limit
  CALL (e) {
    OPTIONAL MATCH (e)-[:HAS_ALIAS]->(a:Alias)
    WITH a ORDER BY a.urn
    RETURN collect(a.urn) AS aliases
  }
  RETURN collect({
    id: e.id, type: e.type, source_id: e.source_id, external_id: e.external_id, time: e.time,
    received_at: e.received_at, original_time: e.original_time, dialect: e.dialect, system: e.system,
    session_id: CASE WHEN anchor:Session THEN anchor.id ELSE null END,
    properties_json: e.properties_json, context_json: e.context_json, aliases: aliases
  }) AS items
}
RETURN p.id AS profile_id, items
