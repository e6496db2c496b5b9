// A manual merge is evidence of its own: the two profile id handles an operator named are linked, so a later
// split or rebuild that re-derives the component from its links keeps them together. The link names one
// member of each side as it was, for `idgraph identity rebuild` to replay the merge at its time.
// Parameters: $from_id, $to_id (the ids the operator named), $from_member, $to_member, $reason, $event_id
// (the audit event), $now.
MATCH (a:ProfileId {id: $from_id}), (b:ProfileId {id: $to_id})
MERGE (a)-[r:MERGED_WITH]->(b)
  ON CREATE SET r.created_at = datetime($now), r.reason = $reason, r.event_id = $event_id,
                r.from_member = $from_member, r.to_member = $to_member
RETURN count(r) AS linked
