// `idgraph identity renormalize`: the alias $old_urn takes its normal form ($new_urn, $new_value) in place,
// when no alias holds that URN yet; every link keeps pointing at it. No row when either condition fails.
MATCH (a:Alias {urn: $old_urn})
WHERE NOT EXISTS { MATCH (:Alias {urn: $new_urn}) }
SET a.urn = $new_urn, a.value = $new_value, a.renormalized_from = $old_urn, a.renormalized_at = datetime($now)
RETURN a.urn AS urn
