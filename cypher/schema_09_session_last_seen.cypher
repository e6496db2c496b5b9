CREATE INDEX session_last_seen IF NOT EXISTS FOR (n:Session) ON (n.last_seen)
