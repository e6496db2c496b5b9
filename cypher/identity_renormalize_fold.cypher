// `idgraph identity renormalize`: the alias $old_urn is the same number as $new_urn, so it folds into it.
// Every link that named the old alias (evidence from sessions and events, refused and blocked links, audit
// records) names the new one, of the same type and with the same properties (one link per node and type);
// the new alias's first/last seen widen to cover the old one's; the old alias leaves its profile (one member
// fewer) and is deleted. The caller has merged their profiles first, or they were one already.
MATCH (old:Alias {urn: $old_urn}), (new:Alias {urn: $new_urn})
WHERE old <> new
CALL (old, new) {
  MATCH (old)<-[r]-(x)
  WITH r, x, new, type(r) AS link_type, properties(r) AS props
  MERGE (x)-[moved:$(link_type)]->(new)
    ON CREATE SET moved = props
  DELETE r
  RETURN count(*) AS moved
}
CALL (old) {
  OPTIONAL MATCH (old)-[b:BELONGS_TO]->(p:Profile)
  DELETE b
  SET p.size = p.size - 1
}
SET new.first_seen = CASE WHEN old.first_seen < new.first_seen THEN old.first_seen ELSE new.first_seen END,
    new.last_seen = CASE WHEN old.last_seen > new.last_seen THEN old.last_seen ELSE new.last_seen END,
    new.created_at = CASE WHEN old.created_at < new.created_at THEN old.created_at ELSE new.created_at END,
    new.shared = CASE WHEN coalesce(old.shared, false) THEN true ELSE new.shared END
WITH old, moved
DETACH DELETE old
RETURN moved
