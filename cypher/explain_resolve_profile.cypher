// The live profile for any id it ever had, with its size (members: sessions, aliases, id handles).
MATCH (:ProfileId {id: $id})-[:BELONGS_TO]->(p:Profile)
RETURN p.id AS id, p.size AS size
