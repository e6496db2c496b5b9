// Newest-first event pages walk a profile's sessions by their latest event (the traits fold's tf_last), so a
// page reads the few sessions it needs, not the profile's whole history (profile_events_page).
CREATE INDEX session_profile_fold_last IF NOT EXISTS FOR (n:Session) ON (n.profile_id, n.tf_last)
