// Deduplication: the event key (source id + the client's event id) is unique, so a repeat MERGEs onto the
// stored event and comes back with created = false. Only the events this request created are processed further.
UNWIND $events AS ev
MERGE (e:Event {key: ev.key})
  ON CREATE SET
    e.id = ev.id,
    e.request_id = $request_id,
    e.source_id = $source_id,
    e.dialect = $dialect,
    e.type = ev.type,
    e.time = ev.time,
    e.received_at = $now,
    e.external_id = ev.external_id,
    e.session_id = ev.session_id,
    e.properties_json = ev.properties_json,
    e.context_json = ev.context_json,
    e.trait_keys = ev.trait_keys,
    e.trait_values = ev.trait_values,
    e += ev.enriched,
    e.system = false
RETURN ev.key AS key, e.id AS id, e.request_id = $request_id AS created
