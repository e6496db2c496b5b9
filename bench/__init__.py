"""Benchmarks of idgraph against a real local Neo4j, run as modules from the repository root
(`python -m bench.run_all`, `make bench`); what they share is in bench/_common.py."""
