// The change feed's entries for audit records written by record_system_events (split, manual merge,
// rebuild, renormalize), in the same transaction, after the writer locked the profiles: one per record that
// names a feed profile (app/services/identity_writes.py, feed_profile_id). The same writes as step 6i of
// ingest_round.cypher; `at` is the server's clock read here (README, Changes and webhooks).
UNWIND $events AS ev
WITH ev, datetime.realtime() AS at
WHERE ev.feed_profile_id IS NOT NULL
CREATE (c:Change {
  seq: right('0000000000000000' + toString(at.epochSeconds * 1000000 + at.microsecond), 16)
       + CASE ev.type WHEN 'merge-refused' THEN '3' WHEN 'profile-merged' THEN '4' WHEN 'profile-split' THEN '5'
         ELSE '6' END + '-' + randomUUID(),
  type: ev.type, at: at, profile_id: ev.feed_profile_id, details_json: ev.properties_json
})
WITH c, ev
CALL (c, ev) {
  UNWIND ev.names_urns AS urn
  MATCH (a:Alias {urn: urn})
  CREATE (c)-[:NAMES]->(a)
}
RETURN count(c) AS written
