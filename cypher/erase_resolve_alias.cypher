// Erasure by alias: the profile that holds this (normalised) URN.
MATCH (:Alias {urn: $urn})-[:BELONGS_TO]->(p:Profile)
RETURN p.id AS id
