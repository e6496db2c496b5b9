// Audit: system events (profile-split, alias-blocked, ...). They hang off the profile id handle they are
// about, so they move with it on later merges, and they are never bound to a session, so no behavioural
// count sees them. Each points at the aliases it names (NAMES), so erasing the profile that holds one erases
// the record too.
// The records come from app/services/identity_writes.system_event; ingestion writes its own in
// cypher/ingest_round.cypher (step 6g, the same writes with $now as ISO text): keep the two alike.
UNWIND $events AS ev
MATCH (h:ProfileId {id: ev.about_id})
CREATE (e:Event:SystemEvent {
  id: ev.id, key: 'system:' + ev.id, type: ev.type, system: true, time: $now, received_at: $now,
  source_id: $source_id, properties_json: ev.properties_json, linking_event_id: ev.linking_event_id
})
CREATE (e)-[:ABOUT]->(h)
WITH e, ev
CALL (e, ev) {
  UNWIND ev.names_urns AS urn
  MATCH (a:Alias {urn: urn})
  CREATE (e)-[:NAMES]->(a)
}
RETURN count(e) AS recorded
