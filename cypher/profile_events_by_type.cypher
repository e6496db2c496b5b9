MATCH (p:Profile {id: $profile_id})<-[:BELONGS_TO]-()<-[:BOUND_TO]-(e:Event)
RETURN e.type AS type, count(e) AS count
ORDER BY type
