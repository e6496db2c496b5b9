// Traits fold, recompute: store anchors' summaries (flat tf_* properties; null removes one), and mark their
// events folded. Parameters: $anchors [{kind: 'session' | 'handle', id, props}].
UNWIND $anchors AS a
CALL (a) {
  OPTIONAL MATCH (s:Session {id: a.id}) WHERE a.kind = 'session'
  OPTIONAL MATCH (h:ProfileId {id: a.id}) WHERE a.kind = 'handle'
  RETURN coalesce(s, h) AS anchor
}
WITH a, anchor WHERE anchor IS NOT NULL
SET anchor += a.props
WITH anchor
CALL (anchor) {
  MATCH (e:Event)-[:BOUND_TO]->(anchor)
  WHERE e.tf_folded IS NULL
  SET e.tf_folded = true
}
RETURN count(*) AS stored
