// The live profile behind each of two profile ids (any id a profile ever had resolves through its handle),
// with its size for union by size and one member of it (`urn:...` or `session:<id>`), which the manual
// merge's evidence names so that a rebuild can replay it. A missing row: no such id.
// Parameters: $ids (list of profile ids).
UNWIND $ids AS id
MATCH (:ProfileId {id: id})-[:BELONGS_TO]->(p:Profile)
CALL (p) {
  OPTIONAL MATCH (m)-[:BELONGS_TO]->(p)
  WHERE m:Alias OR m:Session
  WITH CASE WHEN m:Alias THEN m.urn ELSE 'session:' + m.id END AS member
  ORDER BY member
  RETURN collect(member)[0] AS member
}
RETURN id, p.id AS profile_id, p.size AS size, member
