"""Unit tests: the domain, dialects, settings, the query catalog and rules of the code; no Neo4j."""
