"""The use cases: one service per thing a user does (ingest, read, explain, split, erase, purge, import).

Services speak to Neo4j only through `app.store`; they know nothing of HTTP.
"""
