// One page of the change feed: the changes after position $after and before $before (the watermark), of the
// identity change $types or behavioural events of $event_types, in feed order (the change_seq index), with
// the stored event an `event` entry names (gone when it was erased).
MATCH (c:Change)
WHERE c.seq > $after AND c.seq < $before
  AND (c.type IN $types OR (c.type = 'event' AND c.event_type IN $event_types))
WITH c
ORDER BY c.seq
LIMIT $limit
OPTIONAL MATCH (e:Event {id: c.event_id})
RETURN c.seq AS seq, c.type AS type, c.at AS at, c.profile_id AS profile_id, c.aliases AS aliases,
       c.details_json AS details_json, c.erased_ids AS erased_ids, c.event_type AS event_type,
       CASE WHEN e IS NULL THEN null
            ELSE {id: e.id, type: e.type, time: e.time, source_id: e.source_id, properties_json: e.properties_json}
       END AS event
