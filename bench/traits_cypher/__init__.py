"""The Cypher bench/traits.py runs, loaded by `app.store.catalog.QueryCatalog("bench.traits_cypher")`."""
