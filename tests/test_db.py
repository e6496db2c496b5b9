"""Write transactions with BEGIN pipelined: one round trip fewer per request, same all-or-nothing commit."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from typing import Any

import pytest
from neo4j import AsyncGraphDatabase, AsyncManagedTransaction

from app.db import execute_write_pipelined
from tests.conftest import Neo4jServer


def _driver(server: Neo4jServer) -> Any:
    auth = (server.user, server.password) if server.password else None
    return AsyncGraphDatabase.driver(server.uri, auth=auth)


def test_the_pinned_driver_still_has_the_pipelining_switch() -> None:
    """execute_write_pipelined falls back to a plain execute_write without it: an upgrade would lose the
    round trip silently."""

    async def check() -> bool:
        driver = AsyncGraphDatabase.driver("bolt://127.0.0.1:1")
        try:
            return hasattr(driver.session(), "_pipelined_begin")
        finally:
            await driver.close()

    assert asyncio.run(check())


def test_begin_goes_out_with_the_first_statement(
    neo4j_server: Neo4jServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The driver's protocol log: BEGIN, RUN and PULL are all sent before the server's first answer."""

    async def work(tx: AsyncManagedTransaction) -> int:
        record = await (await tx.run("RETURN 1 AS one")).single()
        return int(record["one"])

    async def run() -> int:
        driver = _driver(neo4j_server)
        try:
            await driver.verify_connectivity()  # HELLO and routing out of the log's way
            caplog.clear()
            return await execute_write_pipelined(driver, "neo4j", work)
        finally:
            await driver.close()

    with caplog.at_level(logging.DEBUG, logger="neo4j"):
        assert asyncio.run(run()) == 1
    order = [
        f"{m.group(1)}: {m.group(2)}"
        for r in caplog.records
        if (m := re.search(r"\] +([CS]): ([A-Z]+)", r.getMessage()))
    ]
    first_answer = next(i for i, m in enumerate(order) if m.startswith("S:"))
    assert {"C: BEGIN", "C: RUN", "C: PULL"} <= set(order[:first_answer]), order


def test_a_failing_work_function_writes_nothing(neo4j_server: Neo4jServer) -> None:
    tag = "pipelined-" + uuid.uuid4().hex

    async def half_then_fail(tx: AsyncManagedTransaction) -> None:
        await tx.run("CREATE (:PipelinedProbe {tag: $tag})", tag=tag)
        raise ValueError("bad input after the first write")

    async def both(tx: AsyncManagedTransaction) -> None:
        await tx.run("CREATE (:PipelinedProbe {tag: $tag, n: 1})", tag=tag + "-ok")
        await tx.run("CREATE (:PipelinedProbe {tag: $tag, n: 2})", tag=tag + "-ok")

    async def run() -> list[str]:
        driver = _driver(neo4j_server)
        try:
            with pytest.raises(ValueError):
                await execute_write_pipelined(driver, "neo4j", half_then_fail)
            await execute_write_pipelined(driver, "neo4j", both)
            records, _, _ = await driver.execute_query(
                "MATCH (p:PipelinedProbe) WHERE p.tag STARTS WITH $tag RETURN p.tag AS tag", tag=tag
            )
            await driver.execute_query(
                "MATCH (p:PipelinedProbe) WHERE p.tag STARTS WITH $tag DELETE p", tag=tag
            )
            return sorted(r["tag"] for r in records)
        finally:
            await driver.close()

    assert asyncio.run(run()) == [tag + "-ok", tag + "-ok"]


def test_the_ingest_statement_reaches_every_node_by_an_index_seek(graph: Any) -> None:
    """cypher/ingest_round.cypher skips replanning: that is safe only while its plan cannot depend on the
    statistics, that is while it scans nothing. A fresh plan (replan=force) on the test graph."""
    from app.queries import QueryCatalog

    statement = QueryCatalog()["ingest_round"]
    assert statement.startswith("CYPHER replan=skip")
    params = {
        "events": [], "request_id": "", "source_id": "s", "dialect": "", "lock_ids": [], "lock_named": True,
        "create_members": True, "only_if_all_created": True, "new_session": None, "new_aliases": [],
        "session_id": "s", "urns": [], "claimed_id": None, "limited_types": ["customer_id"],
        "now": "2026-01-01T00:00:00+00:00", "plans": [],
    }  # fmt: skip
    explained = statement.replace("CYPHER replan=skip", "CYPHER replan=force EXPLAIN", 1)
    summary = graph.execute_query(explained, params, database_="neo4j").summary

    def operators(plan: dict[str, Any]) -> list[str]:
        return [plan["operatorType"].split("@")[0]] + [
            op for child in plan.get("children", []) for op in operators(child)
        ]

    found = operators(summary.plan)
    assert "NodeUniqueIndexSeek(Locking)" in found and "NodeIndexSeek" in found
    assert not [op for op in found if "Scan" in op], found
