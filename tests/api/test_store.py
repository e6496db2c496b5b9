"""Write transactions with BEGIN pipelined (GraphRepository.write_unit_pipelined) against the real Neo4j:
one round trip fewer per request, same all-or-nothing commit."""

from __future__ import annotations

import asyncio
import logging
import re
import uuid

import pytest
from neo4j import AsyncManagedTransaction

from app.store.catalog import catalog
from app.store.repository import GraphRepository
from tests.helpers import Neo4jServer, async_driver


def test_begin_goes_out_with_the_first_statement(
    neo4j_server: Neo4jServer, caplog: pytest.LogCaptureFixture
) -> None:
    """The driver's protocol log: BEGIN, RUN and PULL are all sent before the server's first answer."""

    async def work(tx: AsyncManagedTransaction) -> int:
        record = await (await tx.run("RETURN 1 AS one")).single()
        return int(record["one"])

    async def run() -> int:
        driver = async_driver(neo4j_server)
        try:
            await driver.verify_connectivity()  # HELLO and routing out of the log's way
            caplog.clear()
            return await GraphRepository(driver, catalog(), "neo4j").write_unit_pipelined(work)
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
        driver = async_driver(neo4j_server)
        store = GraphRepository(driver, catalog(), "neo4j")
        try:
            with pytest.raises(ValueError):
                await store.write_unit_pipelined(half_then_fail)
            await store.write_unit_pipelined(both)
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
