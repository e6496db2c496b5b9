// What merge protection and union by size need of locked profiles: the size and, per limited alias type,
// the values held (a seek on the (profile_id, type) index, not a walk of the component).
UNWIND $profile_ids AS pid
MATCH (p:Profile {id: pid})
CALL (p) {
  MATCH (a:Alias)
  WHERE a.profile_id = p.id AND a.type IN $limited_types
  RETURN collect(a.type + ':' + a.value) AS limited
}
RETURN p.id AS id, p.size AS size, limited
