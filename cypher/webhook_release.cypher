// Give up the leases this process holds (at shutdown), so another process takes over at once.
MATCH (w:Webhook)
WHERE w.lease_owner = $owner
SET w.lease_owner = null, w.lease_until = null
RETURN count(w) AS released
