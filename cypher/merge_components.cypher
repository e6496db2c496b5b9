// Union by size: every member (session, alias, profile id handle) of each smaller profile is re-pointed to
// the survivor, then the emptied profile node is removed. Cost: the size of the smaller side only.
// Runs after traits_fold_merge.cypher in one statement, alone or before an ingestion round
// (app/store/merge_statements.py): both files end with one RETURN line.
MATCH (survivor:Profile {id: $survivor_id})
UNWIND $merged_ids AS merged_id
MATCH (merged:Profile {id: merged_id})
CALL (merged, survivor) {
  MATCH (m)-[r:BELONGS_TO]->(merged)
  DELETE r
  CREATE (m)-[:BELONGS_TO]->(survivor)
  SET m.profile_id = survivor.id
}
SET survivor.size = survivor.size + merged.size,
    // the survivor's clock (ingest_round step 6d) covers the merged profile's history too
    survivor.clock = CASE WHEN coalesce(merged.clock, 0) > coalesce(survivor.clock, 0) THEN merged.clock ELSE survivor.clock END
WITH survivor, merged
DETACH DELETE merged
RETURN count(*) AS merged
