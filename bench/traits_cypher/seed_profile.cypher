// A profile and its id handle, as cypher/ingest_round writes them.
CREATE (p:Profile {id: $profile_id, created_at: $now, size: 1 + size($sessions)})
CREATE (:ProfileId {id: $profile_id, profile_id: $profile_id, created_at: $now})-[:BELONGS_TO]->(p)
WITH p
UNWIND $sessions AS s
CREATE (:Session {id: s.id, source_id: $source_id, created_at: s.created_at, first_seen: s.first_seen,
                  last_seen: s.last_seen, profile_less: false, context_json: '{}', profile_id: p.id})
       -[:BELONGS_TO]->(p)
RETURN count(*) AS sessions
