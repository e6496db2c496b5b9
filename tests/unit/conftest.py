"""Unit tests run without Neo4j (`make test-unit`, in seconds): a unit test that asks for the shared
Neo4j, directly or through another fixture (client, settings_env, graph, live_server, source_id), is a
usage error."""

from __future__ import annotations

from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    offenders = [
        item.nodeid
        for item in items
        if item.path.is_relative_to(HERE) and "neo4j_server" in getattr(item, "fixturenames", ())
    ]
    if offenders:
        raise pytest.UsageError(
            "unit tests must not need Neo4j; move these to tests/api or tests/system: " + ", ".join(offenders)
        )
