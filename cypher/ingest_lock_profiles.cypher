// Lock the involved profiles in id order (the caller sorts them) and read what merge protection needs:
// the size for union by size and, per limited alias type, the values the profile holds.
UNWIND $profile_ids AS pid
MATCH (p:Profile {id: pid})
SET p.size = p.size
WITH p
CALL (p) {
  MATCH (a:Alias)
  WHERE a.profile_id = p.id AND a.type IN $limited_types
  RETURN collect(a.type + ':' + a.value) AS limited
}
RETURN p.id AS id, p.size AS size, limited
