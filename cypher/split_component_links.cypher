// The evidence links inside a component: what still holds its members together (a session's or a handle's
// aliases and claims, and the manual merges an operator made between two profile id handles).
MATCH (p:Profile {id: $profile_id})<-[:BELONGS_TO]-(m)-[:HAS_ALIAS|CLAIMED|MERGED_WITH]->(o)-[:BELONGS_TO]->(p)
RETURN CASE WHEN m:ProfileId THEN 'profile_id' ELSE 'session' END AS source_kind, m.id AS source_key,
       CASE WHEN o:ProfileId THEN 'profile_id' ELSE 'alias' END AS target_kind, coalesce(o.urn, o.id) AS target_key
