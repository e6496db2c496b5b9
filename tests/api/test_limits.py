"""Limits (issue 9.4): each gives a clear 413 or 422 naming the JSON path, and a slow client cannot pin a
worker: the body must arrive within IDGRAPH_BODY_READ_TIMEOUT_SECONDS (408)."""

from __future__ import annotations

import socket
import time
from pathlib import Path
from typing import Any

from litestar.testing import TestClient

from tests.helpers import serve_app, unique


def _track(source_id: str, **extra: Any) -> dict[str, Any]:
    return {"source": {"id": source_id}, "session": {"id": unique("s")}, **extra}


def test_body_size_413(client: TestClient[Any], source_id: str) -> None:
    big = "x" * (1024 * 1024 + 10)
    r = client.post("/track", json=_track(source_id, events=[{"type": "a", "properties": {"x": big}}]))
    assert r.status_code == 413
    assert r.headers["content-type"].startswith("application/problem+json")


def test_events_per_request_422(client: TestClient[Any], source_id: str) -> None:
    events = [{"type": "a"} for _ in range(1001)]
    r = client.post("/track", json=_track(source_id, events=events))
    assert r.status_code == 422
    assert r.json()["errors"][0]["path"] == "$.events"
    r = client.post(
        "/events",
        json={"sessionId": unique("s"), "events": [{"eventType": "a"}] * 1001},
        headers={"X-Source-Id": source_id},
    )
    assert r.status_code == 422


def test_nesting_depth_422(client: TestClient[Any], source_id: str) -> None:
    deep: Any = "bottom"
    for _ in range(30):
        deep = {"k": deep}
    r = client.post("/track", json=_track(source_id, events=[{"type": "a", "properties": deep}]))
    assert r.status_code == 422, r.text
    error = r.json()["errors"][0]
    assert error["path"].startswith("$.events[0].properties.k.k") and "levels" in error["message"]
    # Sixteen levels of properties inside the envelope are fine.
    ok: Any = 1
    for _ in range(16):
        ok = {"k": ok}
    assert (
        client.post("/track", json=_track(source_id, events=[{"type": "a", "properties": ok}])).status_code
        == 200
    )


def test_property_size_422(client: TestClient[Any], source_id: str) -> None:
    # Property size: a property object holds at most 1,000 keys (and the body at most 1 MiB).
    many = {f"k{i}": i for i in range(1001)}
    r = client.post(
        "/web-events",
        json={"source": source_id, "session_id": unique("s"), "event_type": "x", "properties": many},
    )
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.properties"


def test_aliases_per_request_422(client: TestClient[Any], source_id: str) -> None:
    aliases = [f"urn:device_id:d{i}" for i in range(51)]
    r = client.post("/track", json=_track(source_id, aliases=aliases, events=[{"type": "a"}]))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$.aliases"
    assert client.post("/track", json=_track(source_id, aliases=aliases[:50])).status_code == 200
    # Aliases carried by events count too: 60 identify events with distinct emails.
    events = [{"type": "identify", "properties": {"email": f"a{i}@example.com"}} for i in range(60)]
    r = client.post("/track", json=_track(source_id, events=events))
    assert r.status_code == 422 and r.json()["errors"][0]["path"] == "$"


def test_slow_body_gets_408(settings_env: dict[str, str], tmp_path: Path) -> None:
    env = {**settings_env, "IDGRAPH_BODY_READ_TIMEOUT_SECONDS": "1", "IDGRAPH_DATA_DIR": str(tmp_path)}
    with serve_app(env, timeout_keep_alive=5) as server:
        port = int(server.url.rsplit(":", 1)[1])
        with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
            sock.sendall(
                b"POST /track HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b'Content-Length: 1000\r\n\r\n{"source": '
            )
            started = time.monotonic()
            answer = sock.recv(4096)
            waited = time.monotonic() - started
        assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
        assert waited < 10
