// Which profile the session, each alias and the claimed profile id belong to right now. Read before and
// after the profile locks: once every profile named here is locked, the answer cannot change. Aliases blocked
// after the fact are named so the caller drops them: they never link anything again.
OPTIONAL MATCH (:Session {id: $session_id})-[:BELONGS_TO]->(sp:Profile)
CALL () {
  UNWIND $urns AS urn
  MATCH (a:Alias {urn: urn})
  OPTIONAL MATCH (a)-[:BELONGS_TO]->(p:Profile)
  RETURN collect([a.urn, p.id]) AS aliases,
         collect(CASE WHEN a.blocked THEN a.urn END) AS blocked
}
OPTIONAL MATCH (:ProfileId {id: $claimed_id})-[:BELONGS_TO]->(cp:Profile)
RETURN sp.id AS session_profile, aliases, blocked, cp.id AS claimed_profile
