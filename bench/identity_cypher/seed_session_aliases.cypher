UNWIND $sessions AS sess
MATCH (p:Profile {id: $profile_id})
MATCH (h:ProfileId {id: $profile_id})
CREATE (s:Session {id: sess.id, source_id: 'bench', created_at: datetime(), first_seen: datetime(),
                   last_seen: datetime(), profile_less: false, profile_id: $profile_id})-[:BELONGS_TO]->(p)
CREATE (s)-[:CLAIMED]->(h)
WITH p, s, sess
UNWIND sess.urns AS urn
CREATE (a:Alias {urn: urn, type: 'device_id', value: substring(urn, 15), created_at: datetime(),
                 first_seen: datetime(), last_seen: datetime(), profile_id: $profile_id})-[:BELONGS_TO]->(p)
CREATE (s)-[:HAS_ALIAS {created_at: datetime()}]->(a)
WITH p, count(DISTINCT s) AS sessions, count(a) AS aliases
SET p.size = p.size + sessions + aliases
RETURN p.size AS size
