// The identity audit of a profile: merges into it, refused merges, splits — recorded as system events about
// its id handles, which travel with the component.
MATCH (p:Profile {id: $profile_id})<-[:BELONGS_TO]-(h:ProfileId)<-[:ABOUT]-(e:SystemEvent)
WITH DISTINCT e
RETURN e.id AS id, e.type AS type, e.time AS time, e.properties_json AS properties_json
ORDER BY e.time DESC, e.id DESC
LIMIT $limit
