// The manual merges an operator made, with a member of each side as it was, in the order they were made.
// Parameters: none.
MATCH (:ProfileId)-[r:MERGED_WITH]->(:ProfileId)
WHERE r.from_member IS NOT NULL AND r.to_member IS NOT NULL
RETURN r.from_member AS from_member, r.to_member AS to_member, r.created_at AS at
ORDER BY at
