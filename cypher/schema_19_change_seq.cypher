CREATE INDEX change_seq IF NOT EXISTS FOR (n:Change) ON (n.seq)
