// Merge suggestions: pairs of identified profiles (each holds a strong alias) that refused links connect.
// A refused link is a session's (or a profile id handle's) REFUSED_ALIAS to an alias of another profile; the
// pair is named by its two live profile ids in order. Dismissed pairs are left out. Most evidence first.
// Parameters: $strong_types, $profile_id (null: every profile), $skip, $limit.
// 1. refused links whose two ends belong to different profiles (optionally one of them $profile_id)
MATCH (m)-[r:REFUSED_ALIAS]->(a:Alias)-[:BELONGS_TO]->(pb:Profile)
MATCH (m)-[:BELONGS_TO]->(pa:Profile)
WHERE pa <> pb AND ($profile_id IS NULL OR $profile_id IN [pa.id, pb.id])
// 2. one row per pair, ends in id order
WITH CASE WHEN pa.id < pb.id THEN pa ELSE pb END AS first, CASE WHEN pa.id < pb.id THEN pb ELSE pa END AS second,
     a, r
WITH first, second, collect(DISTINCT a.urn) AS aliases, count(r) AS refusals, max(r.created_at) AS last_seen
// 3. both identified, and not dismissed
WHERE EXISTS { MATCH (x:Alias) WHERE x.profile_id = first.id AND x.type IN $strong_types }
  AND EXISTS { MATCH (y:Alias) WHERE y.profile_id = second.id AND y.type IN $strong_types }
  AND NOT EXISTS { MATCH (:DismissedSuggestion {pair: first.id + '|' + second.id}) }
RETURN first.id AS profile_a, second.id AS profile_b, aliases, refusals, last_seen
ORDER BY refusals DESC, last_seen DESC, profile_a, profile_b
SKIP $skip
LIMIT $limit
