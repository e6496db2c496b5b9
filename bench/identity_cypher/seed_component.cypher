// A component in the exact shape the ingestion service writes: a Profile, its ProfileId handle, sessions
// that claim the handle and name the aliases, every member BELONGS_TO the profile with profile_id set.
CREATE (p:Profile {id: $profile_id, created_at: datetime(), size: 1})
CREATE (h:ProfileId {id: $profile_id, profile_id: $profile_id, created_at: datetime()})-[:BELONGS_TO]->(p)
RETURN p.id AS id
