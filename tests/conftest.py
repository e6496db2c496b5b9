"""Fixtures for the whole suite.

tests/unit needs none of the Neo4j ones (tests/unit/conftest.py refuses a unit test that asks for one);
tests/api and tests/system share one real Neo4j per test run, found in this order: NEO4J_URI, a Docker daemon
(testcontainers), the local embedded launcher. If none can be had the run fails: integration tests are never
skipped. Shared plain functions and constants live in tests/helpers.py.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from litestar.testing import TestClient

from app.main import create_app
from app.settings import load_settings
from tests.helpers import ADMIN, ADMIN_TOKEN, LiveServer, Neo4jServer, serve_app


def pytest_report_header(config: pytest.Config) -> str:
    uri = os.environ.get("NEO4J_URI", "(unset)")
    scheme = config.getoption("--neo4j-scheme")
    return (
        f"idgraph tests: Neo4j from NEO4J_URI={uri}, else a Docker daemon, else the embedded launcher"
        f" (over {scheme}://)"
    )


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--neo4j-scheme",
        choices=["bolt", "neo4j"],
        default=os.environ.get("IDGRAPH_TEST_NEO4J_SCHEME", "bolt"),
        help="how the suite reaches the Neo4j it starts: bolt:// (direct) or neo4j:// (routing, as to a"
        " cluster; `make test` runs the identity, ingestion and read tests again with it)",
    )


def _with_scheme(uri: str, scheme: str) -> str:
    """The Neo4j the suite started, reached over `scheme` (the routing one asks it for a routing table)."""
    if scheme == "bolt" or not uri.startswith("bolt://"):
        return uri
    return scheme + uri.removeprefix("bolt")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Whatever needs the shared Neo4j is marked `integration`, so `-m "not integration"` leaves it out."""
    for item in items:
        if "neo4j_server" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.integration)


def _docker_answers() -> bool:
    try:
        import docker  # testcontainers depends on it

        client = docker.from_env(timeout=3)
        return bool(client.ping())
    except Exception:
        return False


@pytest.fixture(scope="session")
def neo4j_server(
    tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config
) -> Iterator[Neo4jServer]:
    scheme = pytestconfig.getoption("--neo4j-scheme")
    uri = os.environ.get("NEO4J_URI")
    if uri:
        yield Neo4jServer(
            uri, os.environ.get("NEO4J_USER", "neo4j"), os.environ.get("NEO4J_PASSWORD"), "NEO4J_URI"
        )
        return
    if _docker_answers():
        from testcontainers.neo4j import Neo4jContainer

        with Neo4jContainer("neo4j:5.26-community") as container:
            url = _with_scheme(container.get_connection_url(), scheme)
            yield Neo4jServer(url, "neo4j", container.password, "testcontainers")
        return
    from app import neo4j_local

    data_dir = tmp_path_factory.mktemp("neo4j")
    server = neo4j_local.start(data_dir, heap="1g", page_cache="256m")
    try:
        yield Neo4jServer(_with_scheme(server.uri, scheme), None, None, "local launcher")
    finally:
        server.stop()


@pytest.fixture(scope="session")
def settings_env(neo4j_server: Neo4jServer, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    env = {
        "NEO4J_URI": neo4j_server.uri,
        "IDGRAPH_ADMIN_TOKEN": ADMIN_TOKEN,
        "IDGRAPH_DATA_DIR": str(tmp_path_factory.mktemp("idgraph-data")),
        "IDGRAPH_LOG_FORMAT": "json",
        "IDGRAPH_LOG_LEVEL": "WARNING",
        # The shared servers deliver no webhooks: tests/api/test_changes.py starts its own, each with its
        # receivers' host allowed and a short retry schedule.
        "IDGRAPH_WEBHOOK_DELIVERY": "off",
    }
    if neo4j_server.user and neo4j_server.password:
        env |= {"NEO4J_USER": neo4j_server.user, "NEO4J_PASSWORD": neo4j_server.password}
    return env


@pytest.fixture(scope="session")
def client(settings_env: dict[str, str]) -> Iterator[TestClient[Any]]:
    app = create_app(load_settings(settings_env))
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


@pytest.fixture(scope="session")
def live_server(settings_env: dict[str, str]) -> Iterator[LiveServer]:
    """The app under the real ASGI server (uvicorn) on a free port, for clients that speak real HTTP."""
    with serve_app(settings_env) as server:
        yield server


@pytest.fixture
def cli_env(settings_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    """The test Neo4j's settings in the environment, as `idgraph` (app.cli.main) reads them; undone after."""
    for key, value in settings_env.items():
        monkeypatch.setenv(key, value)
    return monkeypatch


@pytest.fixture
def admin() -> dict[str, str]:
    return dict(ADMIN)


@pytest.fixture
def source_id(client: TestClient[Any], admin: dict[str, str]) -> str:
    """A fresh, enabled source for each test, so tests never see each other's data."""
    sid = "src-" + uuid.uuid4().hex[:12]
    response = client.post("/sources", json={"id": sid, "name": "test source"}, headers=admin)
    assert response.status_code == 201, response.text
    return sid


@pytest.fixture(scope="session")
def graph(neo4j_server: Neo4jServer, client: TestClient[Any]) -> Iterator[Any]:
    """A plain synchronous driver, for tests that look at the graph itself (after the app made the schema)."""
    import neo4j

    auth = (neo4j_server.user, neo4j_server.password) if neo4j_server.password else None
    with neo4j.GraphDatabase.driver(neo4j_server.uri, auth=auth) as driver:
        yield driver
