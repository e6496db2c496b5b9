"""`NEO4J_URI=neo4j://…`, the routing scheme a cluster or Aura is reached with, against the suite's Neo4j.

With it the driver asks the server for a routing table and sends writes to the writer and reads
(`routing_="r"`) to a reader; the embedded Neo4j advertises 127.0.0.1:<port>, so the table points back at it.
`make test` also runs the identity, ingestion and read tests over it (`make test-routing`); this test runs in
every run.
"""

from __future__ import annotations

import asyncio
from typing import Any

from litestar.testing import TestClient
from neo4j import AsyncNeo4jDriver

from app.main import create_app
from app.settings import load_settings
from app.store.driver import create_driver
from tests.helpers import ADMIN, Neo4jServer, unique


def _routing(uri: str) -> str:
    return "neo4j" + uri.removeprefix("bolt") if uri.startswith("bolt://") else uri


def test_the_api_writes_and_reads_over_the_routing_scheme(
    settings_env: dict[str, str], neo4j_server: Neo4jServer, client: Any
) -> None:
    env = settings_env | {"NEO4J_URI": _routing(neo4j_server.uri)}
    settings = load_settings(env)
    assert settings.neo4j_uri is not None and settings.neo4j_uri.startswith("neo4j")

    async def routes() -> bool:
        driver = create_driver(settings)
        try:
            await driver.verify_connectivity()
            return isinstance(driver, AsyncNeo4jDriver)
        finally:
            await driver.close()

    assert asyncio.run(routes()), "a neo4j:// URI must give the routing driver"

    with TestClient(create_app(settings), raise_server_exceptions=False) as api:
        assert api.get("/health").json()["neo4j"] == "up"
        source = api.post("/sources", json={"name": "routed"}, headers=ADMIN)
        assert source.status_code == 201, source.text
        email = f"{unique('routed')}@example.com"
        written = api.post(
            "/track",
            json={
                "source": {"id": source.json()["id"]},
                "session": {"id": unique("s")},
                "events": [{"type": "identify", "properties": {"email": email}}],
            },
        )
        assert written.status_code == 200, written.text
        bookmark = written.headers["X-Idgraph-Bookmark"]
        read = api.get(f"/aliases/urn:email:{email}", headers={**ADMIN, "X-Idgraph-Bookmark": bookmark})
        assert read.status_code == 200 and read.json()["profile"]["id"] == written.json()["profile"]["id"]
