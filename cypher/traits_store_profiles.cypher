// Traits fold, recompute: store profiles' summaries (flat tf_* properties; null removes one) and record in
// each of their sessions that its summary is folded into this profile's (tf_in).
// Parameters: $profiles [{id, props}].
UNWIND $profiles AS row
MATCH (p:Profile {id: row.id})
SET p += row.props
WITH p
CALL (p) {
  MATCH (s:Session)-[:BELONGS_TO]->(p)
  SET s.tf_in = p.id
}
RETURN count(*) AS stored
