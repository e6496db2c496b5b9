// Erasure, bulk step: delete up to $limit events of a component: events bound to its sessions or id handles,
// events that carry its aliases, and the audit (profile-merged / merge-refused system events) about its
// handles. Run until it deletes nothing; each run is its own bounded transaction.
MATCH (:Profile {id: $profile_id})<-[:BELONGS_TO]-(m)<-[:BOUND_TO|ABOUT|HAS_ALIAS]-(e:Event)
WITH DISTINCT e
LIMIT $limit
DETACH DELETE e
RETURN count(*) AS deleted
