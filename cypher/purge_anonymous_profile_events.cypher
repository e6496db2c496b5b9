// Retention: delete up to $limit events of the given anonymous profiles (bound to their sessions or id handles,
// and system events about the handles). The expiry is checked again here, inside the deleting transaction: a
// profile that gained an alias or fresh activity since it was found is left alone.
UNWIND $ids AS id
MATCH (p:Profile {id: id})
WHERE NOT EXISTS { MATCH (:Alias)-[:BELONGS_TO]->(p) }
  AND NOT EXISTS { MATCH (s:Session)-[:BELONGS_TO]->(p) WHERE s.last_seen >= $cutoff }
  AND NOT EXISTS { MATCH (e:Event)-[:BOUND_TO]->(:ProfileId)-[:BELONGS_TO]->(p) WHERE e.time >= $cutoff }
MATCH (p)<-[:BELONGS_TO]-(anchor)<-[:BOUND_TO|ABOUT]-(e:Event)
WITH DISTINCT e
LIMIT $limit
DETACH DELETE e
RETURN count(*) AS deleted
