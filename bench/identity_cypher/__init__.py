"""The Cypher bench/identity.py runs, loaded by `app.store.catalog.QueryCatalog("bench.identity_cypher")`."""
