// The floor: the same traversal as cypher/profile_traits, with the cheapest aggregation over it.
MATCH (p:Profile {id: $profile_id})<-[:BELONGS_TO]-()<-[:BOUND_TO]-(e:Event)
RETURN count(e) AS events, min(e.time) AS first_seen, max(e.time) AS last_seen
