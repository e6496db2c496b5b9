MATCH (e:Event {id: $id})
OPTIONAL MATCH (e)-[:BOUND_TO|ABOUT]->(anchor)
OPTIONAL MATCH (anchor)-[:BELONGS_TO]->(p:Profile)
CALL (e) {
  OPTIONAL MATCH (e)-[:HAS_ALIAS]->(a:Alias)
  WITH a ORDER BY a.urn
  RETURN collect(a.urn) AS aliases
}
RETURN e.id AS id, e.type AS type, e.source_id AS source_id, e.external_id AS external_id,
       e.time AS time, e.received_at AS received_at, e.original_time AS original_time,
       e.dialect AS dialect, e.system AS system,
       CASE WHEN anchor:Session THEN anchor.id ELSE null END AS session_id,
       p.id AS profile_id, e.properties_json AS properties_json, e.context_json AS context_json, aliases
