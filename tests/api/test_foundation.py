"""The foundation against the real Neo4j: the schema, /health, the OpenAPI contract, the CLI."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

from litestar.testing import TestClient

from tests.helpers import unique


def test_health_reports_neo4j_up(client: TestClient[Any]) -> None:
    r = client.get("/health")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["neo4j"] == "up"
    assert r.headers["x-request-id"]


def test_schema_constraints_exist(graph: Any) -> None:
    records, _, _ = graph.execute_query("SHOW CONSTRAINTS YIELD name RETURN collect(name) AS names")
    assert {
        "source_id",
        "session_id",
        "event_id",
        "event_key",
        "alias_urn",
        "profile_id",
        "profile_handle_id",
    } <= set(records[0]["names"])


def test_openapi_schema_lists_the_contract_paths(client: TestClient[Any]) -> None:
    paths = client.get("/schema/openapi.json").json()["paths"]
    for path in (
        "/health",
        "/sources",
        "/track",
        "/collect/{event_type}/{source_id}",
        "/aliases/{urn}",
        "/profiles/{profile_id}",
        "/sessions/{session_id}",
        "/events/{event_id}",
    ):
        assert path in paths, path


def test_cli_sources_add_and_list(settings_env: dict[str, str]) -> None:
    env = {**os.environ, **settings_env}
    sid = unique("cli")
    cli = [sys.executable, "-m", "app.cli"]
    added = subprocess.run(
        [*cli, "sources", "add", "From the CLI", "--id", sid],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert added.returncode == 0, added.stderr
    assert json.loads(added.stdout)["id"] == sid
    again = subprocess.run(
        [*cli, "sources", "add", "dup", "--id", sid], env=env, capture_output=True, text=True, timeout=120
    )
    assert again.returncode == 1 and "already exists" in again.stderr
    listed = subprocess.run([*cli, "sources", "list"], env=env, capture_output=True, text=True, timeout=120)
    assert sid in {json.loads(line)["id"] for line in listed.stdout.splitlines()}
