MATCH (p:Profile {id: $profile_id})<-[:BELONGS_TO]-(m)
RETURN CASE WHEN m:ProfileId THEN 'profile_id' WHEN m:Alias THEN 'alias' ELSE 'session' END AS kind,
       coalesce(m.urn, m.id) AS key, m.created_at AS created_at
