// Erasure: the live profile for any id it ever had (a merged-away id resolves to the survivor).
MATCH (:ProfileId {id: $id})-[:BELONGS_TO]->(p:Profile)
RETURN p.id AS id
