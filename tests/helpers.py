"""What tests share besides fixtures: constants, small builders, and the one way to run the API as a real
server on a port (`serve_app`). Plain functions: test modules import them from here, never from conftest.py
or from each other."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from litestar.testing import TestClient
from neo4j import AsyncDriver, AsyncGraphDatabase

from app.main import create_app
from app.settings import load_settings

# The admin token of every app the tests build from `settings_env` (conftest.py) or an env of their own.
ADMIN_TOKEN = "test-admin-token-" + uuid.uuid4().hex
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

REPO = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Neo4jServer:
    uri: str
    user: str | None
    password: str | None
    how: str


@dataclass(frozen=True)
class LiveServer:
    url: str
    admin: dict[str, str]


def unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


def metric_value(text: str, name: str, **labels: str) -> float:
    """The sum of the samples of metric `name` with these labels in a Prometheus text exposition."""
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{") and not line.startswith(name + " "):
            continue
        if all(f'{k}="{v}"' in line for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def send(
    client: TestClient[Any],
    source_id: str,
    session_id: str,
    aliases: list[str] | None = None,
    events: list[dict[str, Any]] | None = None,
    profile_id: str | None = None,
) -> dict[str, Any]:
    """One Tracardi /track request (a page view unless `events` says otherwise); asserts 200, its answer."""
    body: dict[str, Any] = {
        "source": {"id": source_id},
        "session": {"id": session_id},
        "events": events if events is not None else [{"type": "page-view"}],
        "aliases": aliases or [],
    }
    if profile_id:
        body["profile"] = {"id": profile_id}
    r = client.post("/track", json=body)
    assert r.status_code == 200, r.text
    out: dict[str, Any] = r.json()
    return out


def async_driver(server: Neo4jServer) -> AsyncDriver:
    """A plain async driver to the test Neo4j (the caller closes it)."""
    auth: Any = (server.user, server.password) if server.password else None
    return AsyncGraphDatabase.driver(server.uri, auth=auth)


def java_alive(pid: int) -> bool:
    """Whether process `pid` still runs (a zombie does not count)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    stat = Path(f"/proc/{pid}/stat")
    return stat.exists() and stat.read_text().split()[2] != "Z"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serve_app(
    env: dict[str, str], *, log_file: Path | None = None, **uvicorn_options: Any
) -> Iterator[LiveServer]:
    """The API as a real server on a free port: `create_app(load_settings(env))` under uvicorn, until the
    block ends. The one way tests do this (the session's `live_server` fixture is this with `settings_env`).

    In a thread of the test process by default. With `log_file`, in a process of its own whose stdout and
    stderr go to that file, for tests that read what the app logs (logging is configured per process)."""
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    admin = {"Authorization": f"Bearer {env.get('IDGRAPH_ADMIN_TOKEN', '')}"}
    if log_file is None:
        with _in_thread(env, port, uvicorn_options):
            yield LiveServer(url, admin)
    else:
        with _in_process(env, port, url, log_file, uvicorn_options):
            yield LiveServer(url, admin)


@contextmanager
def _in_thread(env: dict[str, str], port: int, uvicorn_options: dict[str, Any]) -> Iterator[None]:
    app = create_app(load_settings(env))
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_config=None, access_log=False, lifespan="on", **uvicorn_options
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name=f"app-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 120
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the app server did not start")
        time.sleep(0.05)
    try:
        yield
    finally:
        server.should_exit = True
        thread.join(timeout=60)


@contextmanager
def _in_process(
    env: dict[str, str], port: int, url: str, log_file: Path, uvicorn_options: dict[str, Any]
) -> Iterator[None]:
    if uvicorn_options:
        raise TypeError(f"uvicorn options are for the in-thread server only: {sorted(uvicorn_options)}")
    command = [
        sys.executable,
        *("-m", "uvicorn", "--factory", "app.main:app_from_env"),
        *("--host", "127.0.0.1", "--port", str(port), "--no-access-log"),
    ]
    with log_file.open("wb") as log:
        proc = subprocess.Popen(command, env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert proc.poll() is None and time.monotonic() < deadline, log_file.read_text()[-2000:]
                time.sleep(0.3)
            yield
        finally:
            proc.terminate()
            proc.wait(timeout=30)


def owner_of(client: TestClient[Any], admin: dict[str, str], urn: str) -> str:
    """The id of the profile that owns `urn` (asserts the alias is known)."""
    r = client.get(f"/aliases/{urn}", headers=admin)
    assert r.status_code == 200, r.text
    owner: str = r.json()["profile"]["id"]
    return owner


def assert_profiles_consistent(graph: Any, profile_ids: list[str]) -> list[dict[str, Any]]:
    """Each profile's bookkeeping holds: its size counts its members, every member is tagged with it, and its
    own id resolves to itself. Its rows (id, size, members, tagged, sessions, own)."""
    checks, _, _ = graph.execute_query(
        """
        UNWIND $ids AS pid
        MATCH (p:Profile {id: pid})
        CALL (p) {
          MATCH (m)-[:BELONGS_TO]->(p)
          RETURN count(m) AS members, count(CASE WHEN m.profile_id = p.id THEN 1 END) AS tagged
        }
        CALL (p) {
          MATCH (s:Session)-[:BELONGS_TO]->(p)
          RETURN count(s) AS sessions
        }
        OPTIONAL MATCH (h:ProfileId {id: p.id})-[:BELONGS_TO]->(own:Profile)
        RETURN p.id AS id, p.size AS size, members, tagged, sessions, own.id AS own
        """,
        ids=profile_ids,
    )
    assert len(checks) == len(profile_ids)
    for c in checks:
        assert c["size"] == c["members"] == c["tagged"], c
        assert c["own"] == c["id"], "a profile's own id must resolve to itself"
    return [dict(c) for c in checks]


def sdk_options(server: LiveServer, write_key: str, errors: list[Exception]) -> dict[str, Any]:
    """What the Python SDKs of the Segment protocol (analytics-python, rudder-sdk-python) take to send to a
    live idgraph at once, gzipped, without retries, collecting their errors in `errors`."""
    return {
        "write_key": write_key,
        "host": server.url,
        "sync_mode": True,
        "gzip": True,
        "max_retries": 0,
        "on_error": lambda exc, _batch: errors.append(exc),
    }
