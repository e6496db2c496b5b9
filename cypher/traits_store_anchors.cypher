// Traits fold, recompute: store anchors' summaries (flat tf_* properties; null removes one), and mark their
// events folded. Parameters: $anchors [{kind: 'session' | 'handle', id, props}].
CALL () {
  UNWIND [a IN $anchors WHERE a.kind = 'session'] AS a
  MATCH (s:Session {id: a.id})
  RETURN a, s AS anchor
  UNION ALL
  UNWIND [a IN $anchors WHERE a.kind = 'handle'] AS a
  MATCH (h:ProfileId {id: a.id})
  RETURN a, h AS anchor
}
SET anchor += a.props
WITH anchor
CALL (anchor) {
  MATCH (e:Event)-[:BOUND_TO]->(anchor)
  WHERE e.tf_folded IS NULL
  SET e.tf_folded = true
}
RETURN count(*) AS stored
