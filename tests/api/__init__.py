"""The app against the shared Neo4j: in-process (TestClient), on a port, and the CLI."""
