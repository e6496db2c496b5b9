// Traits are computed, never stored: for each trait input key, the value of the latest event (by event time,
// ties broken by event id) bound to the profile.
MATCH (p:Profile {id: $profile_id})<-[:BELONGS_TO]-()<-[:BOUND_TO]-(e:Event)
WHERE size(coalesce(e.trait_keys, [])) > 0
UNWIND range(0, size(e.trait_keys) - 1) AS i
WITH e.trait_keys[i] AS key, e.trait_values[i] AS value, e.time AS time, e.id AS event_id
ORDER BY time DESC, event_id DESC
WITH key, head(collect(value)) AS value
RETURN key, value
ORDER BY key
