// Newest-first session pages: a seek in the profile's sessions by created_at (profile_sessions_page).
CREATE INDEX session_profile_created IF NOT EXISTS FOR (n:Session) ON (n.profile_id, n.created_at)
