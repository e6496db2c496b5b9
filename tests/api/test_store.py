"""Write transactions with BEGIN pipelined: one round trip fewer per request, same all-or-nothing commit."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from typing import Any

import pytest
from neo4j import AsyncGraphDatabase, AsyncManagedTransaction

from app.store.driver import execute_write_pipelined
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
