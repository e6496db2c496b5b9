// Every recorded link between an anchor (a session, or a profile id handle for events bound to a profile
// directly) and an alias, accepted or refused, grouped into the units of evidence that made them (the
// anchor and the event that brought its links), in event-time order. Blocked aliases are left out: they
// never link again.
// Parameters: none.
// step 1: the links, with the time of the event that brought them (else when they were made)
MATCH (m)-[r:HAS_ALIAS|REFUSED_ALIAS]->(a:Alias)
WHERE (m:Session OR m:ProfileId) AND NOT coalesce(a.blocked, false)
OPTIONAL MATCH (e:Event {id: r.event_id})
// step 2: one row per unit
WITH m, r.event_id AS event_id, min(coalesce(e.time, r.created_at)) AS at, min(r.created_at) AS made,
     collect(DISTINCT a.urn) AS urns, collect(DISTINCT CASE WHEN type(r) = 'HAS_ALIAS' THEN a.urn END) AS accepted_urns
RETURN CASE WHEN m:Session THEN m.id END AS session_id, CASE WHEN m:ProfileId THEN m.id END AS handle_id,
       event_id, at, made, urns, accepted_urns
ORDER BY at, made, session_id, handle_id, event_id
