"""The Neo4j driver: created once per process, with the settings every deployment shares."""

from __future__ import annotations

from typing import Any

from neo4j import AsyncDriver, AsyncGraphDatabase

from app.settings import Settings


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
