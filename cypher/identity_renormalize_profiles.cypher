// `idgraph identity renormalize`: what the identity rules read of each profile in $profile_ids (ProfileRow in
// app/services/ingest_plan.py, as ingest_round's step 4 reads it): its size and its aliases of $held_types.
UNWIND $profile_ids AS pid
MATCH (p:Profile {id: pid})
CALL (p) {
  MATCH (a:Alias)
  WHERE a.profile_id = p.id AND a.type IN $held_types
  RETURN collect(a.type + ':' + a.value) AS limited
}
RETURN p.id AS id, p.size AS size, limited
