// A new profile and its id handle. The handle is a member of the component like sessions and aliases, so the
// id keeps resolving (one hop) after the profile is merged into another.
CREATE (p:Profile {id: $profile_id, created_at: $now, size: 1})
CREATE (h:ProfileId {id: $profile_id, profile_id: $profile_id, created_at: $now})-[:BELONGS_TO]->(p)
RETURN p.id AS id
