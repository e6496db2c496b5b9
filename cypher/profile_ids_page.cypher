// Live profile ids in id order, a page at a time (keyset on id), for `idgraph traits verify`.
MATCH (p:Profile)
WHERE $after_id IS NULL OR p.id > $after_id
RETURN p.id AS id
ORDER BY id
LIMIT $limit
