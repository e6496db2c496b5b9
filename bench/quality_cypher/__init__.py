"""The Cypher bench/quality.py runs, loaded by `app.store.catalog.QueryCatalog("bench.quality_cypher")`."""
