"""The store: the only code that speaks Bolt. One driver, the catalog of named `cypher/` statements and the
repository every statement runs through (timed for /metrics).
"""
