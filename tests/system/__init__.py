"""Whole processes: `idgraph serve`, Neo4j of their own, outages, load, fuzzing, the browser."""
