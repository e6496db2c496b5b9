// Change-feed retention: at most $limit changes older than position $before (IDGRAPH_CHANGES_RETENTION_DAYS).
MATCH (c:Change)
WHERE c.seq < $before
WITH c
LIMIT $limit
DETACH DELETE c
RETURN count(*) AS deleted
