"""idgraph's test suite: unit/ (no Neo4j), api/ (the app against the shared Neo4j), system/ (processes and
browsers). A package, so every module has one name (tests.helpers, tests.api.test_store, ...)."""
