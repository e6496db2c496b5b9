MATCH (a:Alias {urn: $u}) RETURN a
