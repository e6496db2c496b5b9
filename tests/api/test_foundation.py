"""The foundation: settings, the query catalog, the schema, /health, the CLI against the real Neo4j."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from litestar.testing import TestClient

from app.store.catalog import QueryCatalog, QueryNotFound, catalog
from app.settings import SettingsError, load_settings
from tests.conftest import unique


def test_settings_defaults_and_validation() -> None:
    s = load_settings({})
    assert (s.host, s.port, s.neo4j_uri, s.max_body_bytes) == ("127.0.0.1", 8000, None, 1024 * 1024)
    assert s.merge_limits.per_type == {"customer_id": 1, "user_id": 1}
    assert load_settings({"IDGRAPH_MERGE_LIMITS": "email=5,user_id=0"}).merge_limits.per_type == {
        "customer_id": 1,
        "email": 5,
    }
    for env in (
        {"IDGRAPH_PORT": "x"},
        {"IDGRAPH_PORT": "70000"},
        {"IDGRAPH_LOG_FORMAT": "xml"},
        {"NEO4J_URI": "localhost"},
        {"IDGRAPH_MERGE_LIMITS": "email"},
    ):
        with pytest.raises(SettingsError):
            load_settings(env)


def test_query_catalog_loads_every_file_and_refuses_unknown_names(tmp_path: Path) -> None:
    names = catalog().names()
    shipped = sorted(p.stem for p in (Path(__file__).parent.parent / "cypher").glob("*.cypher"))
    assert names == shipped
    with pytest.raises(QueryNotFound):
        catalog()["no_such_query"]
    with pytest.raises(QueryNotFound):
        catalog().require("health_ping", "nope")


def test_query_catalog_refuses_an_empty_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "emptycypher"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "blank.cypher").write_text("  \n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ValueError, match="empty"):
        QueryCatalog("emptycypher")


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
