// Bind members that have no profile yet (a new session, aliases seen for the first time) to a profile.
MATCH (p:Profile {id: $profile_id})
CALL (p) {
  UNWIND $alias_urns AS urn
  MATCH (a:Alias {urn: urn})
  WHERE NOT (a)-[:BELONGS_TO]->(:Profile) AND NOT coalesce(a.blocked, false)
  CREATE (a)-[:BELONGS_TO]->(p)
  SET a.profile_id = p.id
  RETURN count(a) AS aliases
}
CALL (p) {
  OPTIONAL MATCH (s:Session {id: $session_id})
  WHERE NOT (s)-[:BELONGS_TO]->(:Profile)
  FOREACH (_ IN CASE WHEN s IS NULL THEN [] ELSE [1] END |
    CREATE (s)-[:BELONGS_TO]->(p)
    SET s.profile_id = p.id, s.profile_less = false)
  RETURN count(s) AS sessions
}
SET p.size = p.size + aliases + sessions
RETURN p.size AS size
