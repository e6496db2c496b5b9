// Erasure, in the final transaction before erase_component, under the same lock: the change-feed entries
// that name one of the component's aliases go (they hold personal data), and the ids the component answers
// to are read for its profile-erased entry (changes_record_erased). No row: the profile was merged meanwhile.
MATCH (h:ProfileId {id: $profile_id})-[:BELONGS_TO]->(p:Profile {id: $profile_id})
SET h._lock = true
REMOVE h._lock
WITH p
CALL (p) {
  OPTIONAL MATCH (p)<-[:BELONGS_TO]-(:Alias)<-[:NAMES]-(c:Change)
  WITH DISTINCT c
  DETACH DELETE c
  RETURN count(c) AS changes
}
CALL (p) {
  MATCH (h:ProfileId)-[:BELONGS_TO]->(p)
  RETURN collect(h.id) AS ids
}
RETURN ids, changes
