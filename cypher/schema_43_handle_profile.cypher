// A profile's id handles (its merged ids, the anchors of its directly bound events) by a seek, not by
// expanding every member of the profile (profile_folded).
CREATE INDEX profile_handle_profile IF NOT EXISTS FOR (n:ProfileId) ON (n.profile_id)
