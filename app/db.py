"""The Neo4j driver: created once per process, schema bootstrapped at start-up."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncDriver, AsyncGraphDatabase

from app.logging import get_logger
from app.queries import QueryCatalog
from app.settings import Settings

log = get_logger(__name__)


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
