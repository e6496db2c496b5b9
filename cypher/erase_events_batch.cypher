// Erasure, bulk step: delete up to $limit events of a component: events bound to its sessions or id handles,
// events that carry its aliases (refused links too: they hold the value), the audit about its handles, and
// any audit that names one of its aliases (a refused merge or a split recorded on another profile). Run until it deletes nothing; each run is its own bounded transaction.
MATCH (:Profile {id: $profile_id})<-[:BELONGS_TO]-(m)<-[:BOUND_TO|ABOUT|HAS_ALIAS|REFUSED_ALIAS|NAMES]-(e:Event)
WITH DISTINCT e
LIMIT $limit
DETACH DELETE e
RETURN count(*) AS deleted
