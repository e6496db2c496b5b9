// The members of a component for the graph view, capped: id handles first, then aliases, then sessions,
// the most recently seen first within each kind. `shared`: an alias marked shared (a weak alias that took part
// in a refused join, such as a kiosk's device id); false for everything else.
MATCH (p:Profile {id: $profile_id})<-[:BELONGS_TO]-(m)
WITH m, CASE WHEN m:ProfileId THEN 'profile_id' WHEN m:Alias THEN 'alias' ELSE 'session' END AS kind
ORDER BY CASE kind WHEN 'profile_id' THEN 0 WHEN 'alias' THEN 1 ELSE 2 END,
         coalesce(m.last_seen, m.created_at) DESC, coalesce(m.urn, m.id)
LIMIT $limit
RETURN kind, coalesce(m.urn, m.id) AS key, m.type AS type, m.first_seen AS first_seen,
       m.last_seen AS last_seen, kind = 'alias' AND coalesce(m.shared, false) AS shared,
       elementId(m) AS element_id
