// A profile's lock is the write lock of its own id handle (ProfileId with the profile's id). Handles outlive
// the profile nodes that merges delete, so a writer queued on a handle never waits on a node that vanishes;
// after the lock it re-reads where the handle points now. Every write that moves members into or out of a
// profile holds this lock, so a locked profile's member set is stable. Callers lock in id order.
UNWIND $profile_ids AS pid
MATCH (h:ProfileId {id: pid})
SET h._lock = true
REMOVE h._lock
RETURN count(h) AS locked
