"""The Cypher bench/ingest.py runs, loaded by `app.store.catalog.QueryCatalog("bench.ingest_cypher")`."""
