// Which profile the session, each alias and the claimed profile id belong to right now. Read before and
// after the profile locks: once every profile named here is locked, the answer cannot change.
OPTIONAL MATCH (:Session {id: $session_id})-[:BELONGS_TO]->(sp:Profile)
CALL () {
  UNWIND $urns AS urn
  MATCH (a:Alias {urn: urn})
  OPTIONAL MATCH (a)-[:BELONGS_TO]->(p:Profile)
  RETURN collect([a.urn, p.id]) AS aliases
}
OPTIONAL MATCH (:ProfileId {id: $claimed_id})-[:BELONGS_TO]->(cp:Profile)
RETURN sp.id AS session_profile, aliases, cp.id AS claimed_profile
