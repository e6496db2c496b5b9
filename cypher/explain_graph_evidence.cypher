// The evidence links leaving the given members (sessions and id handles link aliases and claimed ids; an
// operator's manual merge links two id handles).
UNWIND $element_ids AS element_id
MATCH (m) WHERE elementId(m) = element_id
MATCH (m)-[r:HAS_ALIAS|CLAIMED|REFUSED_ALIAS|MERGED_WITH]->(o)
RETURN elementId(m) AS source, elementId(o) AS target, type(r) AS kind
