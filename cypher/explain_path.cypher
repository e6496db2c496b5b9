// The shortest chain of evidence that puts two aliases in one profile: alias - session (or id handle) -
// alias ..., or alias - event - alias when one event carried both, over the links that hold components
// together (refused, blocked and unlinked links never do).
MATCH (a:Alias {urn: $from}), (b:Alias {urn: $to})
MATCH path = shortestPath((a)-[:HAS_ALIAS|CLAIMED*..60]-(b))
RETURN [n IN nodes(path) | {
          kind: CASE WHEN n:Alias THEN 'alias' WHEN n:Session THEN 'session' WHEN n:Event THEN 'event'
                    ELSE 'profile_id' END,
          key: coalesce(n.urn, n.id)
        }] AS nodes,
       [r IN relationships(path) | {
          kind: type(r), source: coalesce(startNode(r).urn, startNode(r).id),
          target: coalesce(endNode(r).urn, endNode(r).id), event_id: r.event_id
        }] AS links
