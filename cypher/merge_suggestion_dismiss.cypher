// Dismiss a merge suggestion for good: the pair (live profile ids, in order) is never suggested again.
// Parameters: $pair ("<a>|<b>", a < b), $now.
MERGE (d:DismissedSuggestion {pair: $pair})
  ON CREATE SET d.created_at = datetime($now)
RETURN d.pair AS pair
