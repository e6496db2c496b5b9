"""Replicas that start together on a fresh database each create the schema: `CREATE ... IF NOT EXISTS` checks
and creates in two steps, so one of them used to fail with "an equivalent index already exists" and the
process exited. The race, for real, on the suite's Neo4j: schema rules it has never seen, four starts at once.
"""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

import pytest

from app.store.catalog import QueryCatalog
from app.store.repository import GraphRepository
from tests.helpers import Neo4jServer, async_driver


def test_four_processes_creating_the_schema_at_once_all_start(
    neo4j_server: Neo4jServer, client: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, graph: Any
) -> None:
    tag = uuid.uuid4().hex[:8]
    package = tmp_path / f"race_{tag}"
    package.mkdir()
    (package / "__init__.py").write_text("")
    for i in range(4):
        (package / f"schema_{i}.cypher").write_text(
            f"CREATE INDEX race_{tag}_{i} IF NOT EXISTS FOR (n:Race{tag}) ON (n.k{i})"
        )
    (package / "schema_await_indexes.cypher").write_text("CALL db.awaitIndexes(60)")
    monkeypatch.syspath_prepend(str(tmp_path))
    statements = QueryCatalog(package.name)

    async def start_all() -> list[Any]:
        drivers = [async_driver(neo4j_server) for _ in range(4)]
        try:
            repositories = [GraphRepository(d, statements, "neo4j") for d in drivers]
            return await asyncio.gather(*(r.bootstrap_schema() for r in repositories), return_exceptions=True)
        finally:
            for d in drivers:
                await d.close()

    try:
        outcomes = asyncio.run(start_all())
        assert outcomes == [5, 5, 5, 5], outcomes
        created, _, _ = graph.execute_query(
            "SHOW INDEXES YIELD name WHERE name STARTS WITH $p RETURN name", p=f"race_{tag}"
        )
        assert len(created) == 4
    finally:
        for i in range(4):
            graph.execute_query(f"DROP INDEX race_{tag}_{i} IF EXISTS")
