// Merge protection counts a profile's aliases of a limited type; this makes that a seek, not a scan of
// the whole component.
CREATE INDEX alias_profile_type IF NOT EXISTS FOR (n:Alias) ON (n.profile_id, n.type)
