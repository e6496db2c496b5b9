// Events as cypher/ingest_round writes them: flat properties, BOUND_TO a session.
UNWIND $events AS ev
MATCH (s:Session {id: ev.session_id})
CREATE (e:Event {
  key: ev.key, id: ev.id, request_id: ev.request_id, source_id: $source_id, dialect: 'tracardi', type: ev.type,
  time: ev.time, received_at: ev.time, session_id: ev.session_id, properties_json: ev.properties_json,
  context_json: ev.context_json, trait_keys: ev.trait_keys, trait_values: ev.trait_values, system: false
})
SET e += ev.enriched
CREATE (e)-[:BOUND_TO]->(s)
RETURN count(e) AS events
