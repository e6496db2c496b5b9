"""The Neo4j driver: created once per process, schema bootstrapped at start-up."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, LiteralString, TypeVar

from neo4j import AsyncDriver, AsyncGraphDatabase, AsyncManagedTransaction

from app.logging import get_logger
from app.store.catalog import QueryCatalog
from app.settings import Settings

log = get_logger(__name__)

_R = TypeVar("_R")


async def single_row(
    tx: AsyncManagedTransaction, query: LiteralString, **params: Any
) -> dict[str, Any] | None:
    """The one row a statement answers, as a dict; None when it answers none. A unit of work for execute_*."""
    result = await tx.run(query, params)
    record = await result.single()
    return dict(record) if record is not None else None


def create_driver(settings: Settings) -> AsyncDriver:
    if settings.neo4j_uri is None:
        raise RuntimeError("NEO4J_URI is not set and no local Neo4j was started")
    auth: Any = (settings.neo4j_user, settings.neo4j_password) if settings.neo4j_password else None
    return AsyncGraphDatabase.driver(
        settings.neo4j_uri,
        auth=auth,
        # Fail fast when Neo4j is away, so callers answer 503 instead of hanging.
        connection_acquisition_timeout=10.0,
        connection_timeout=5.0,
        max_transaction_retry_time=15.0,
        # Server notifications ("property key does not exist" on a fresh store, "index already exists")
        # are noise for operators; real errors still raise.
        notifications_min_severity="OFF",
    )


async def bootstrap_schema(driver: AsyncDriver, catalog: QueryCatalog, database: str) -> int:
    """Create every constraint and index (idempotent: each says IF NOT EXISTS), then wait for them online.

    `schema_await_indexes` sorts last among the `schema_*` files, so it runs after the others."""
    statements = catalog.schema_statements()
    for statement in statements:
        await driver.execute_query(statement, database_=database)
    log.info("schema ready", statements=len(statements))
    return len(statements)


async def ping(driver: AsyncDriver, catalog: QueryCatalog, database: str) -> bool:
    records, _, _ = await driver.execute_query(catalog["health_ping"], database_=database)
    return bool(records and records[0]["ok"] == 1)


async def execute_write_pipelined(
    driver: AsyncDriver, database: str, work: Callable[[AsyncManagedTransaction], Awaitable[_R]]
) -> _R:
    """`session.execute_write(work)` (managed, retried on transient errors), with BEGIN sent together with
    the first statement instead of in a round trip of its own.

    `execute_query` does this; `execute_write` waits for BEGIN's answer first, which was one of the four round
    trips a one-event /track request made (bench/ingest.py). The switch is the session's private
    `_pipelined_begin` flag, the one `execute_query` sets (neo4j 6.4, pinned); without it, plain
    execute_write.
    tests/test_db.py notices when a driver upgrade drops it."""
    async with driver.session(database=database) as session:
        pipelined = getattr(session, "_pipelined_begin", None)
        if pipelined is None:
            return await session.execute_write(work)
        with pipelined:
            return await session.execute_write(work)
