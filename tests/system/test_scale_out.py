"""Several API processes on one Neo4j: what a deployment with replicas behind a load balancer relies on.

Two API processes on two ports share the test Neo4j. The identity oracles' streams (tests/oracles.py) go to
both at once, round robin, and the final graph must be what one process would have made; a source disabled
through one process is refused by the other within IDGRAPH_SOURCE_CACHE_SECONDS; a bookmark one process
hands out is accepted by the other. `idgraph serve --workers 2` runs two worker processes on one port.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from app import neo4j_local
from tests.helpers import LiveServer, serve_app, unique
from tests.oracles import check_rules, check_union_find, rules_stream, send_all, union_find_stream

# How long a process may serve a source from its own memory (the default; README "Scaling out").
SOURCE_CACHE_SECONDS = 2.0
HEADER = "X-Idgraph-Bookmark"


@pytest.fixture(scope="module")
def replicas(
    settings_env: dict[str, str], client: Any, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[LiveServer, LiveServer]]:
    """Two API processes of their own on two ports, one Neo4j (`client` has put the schema in place)."""
    logs = tmp_path_factory.mktemp("replicas")
    env = settings_env | {"IDGRAPH_SOURCE_CACHE_SECONDS": str(SOURCE_CACHE_SECONDS)}
    with serve_app(env, log_file=logs / "a.log") as a, serve_app(env, log_file=logs / "b.log") as b:
        yield a, b


def _source(server: LiveServer, name: str) -> str:
    r = httpx.post(f"{server.url}/sources", json={"name": name}, headers=server.admin, timeout=60)
    assert r.status_code == 201, r.text
    source_id: str = r.json()["id"]
    return source_id


def test_union_find_stream_through_two_processes_matches_the_oracle(
    replicas: tuple[LiveServer, LiveServer], graph: Any
) -> None:
    a, b = replicas
    run = uuid.uuid4().hex[:8]
    bodies, oracle = union_find_stream(run, _source(a, "oracle-2p"))
    started = time.monotonic()
    send_all([a.url, b.url], bodies)
    elapsed = time.monotonic() - started
    expected = check_union_find(graph, run, bodies, oracle)
    print(f"\ntwo processes: {len(bodies)} links in {elapsed:.1f}s, {len(expected)} components")


def test_rules_stream_through_two_processes_keeps_the_rules_invariants(
    replicas: tuple[LiveServer, LiveServer], graph: Any
) -> None:
    a, b = replicas
    run = uuid.uuid4().hex[:8]
    bodies = rules_stream(run, _source(b, "rules-2p"))
    answers = send_all([a.url, b.url], bodies)
    print(f"\ntwo processes, rules v2: {check_rules(graph, run, bodies, answers)}")


def _track(server: LiveServer, source_id: str, **kw: Any) -> httpx.Response:
    body = {"source": {"id": source_id}, "session": {"id": unique("s")}, "events": [{"type": "page-view"}]}
    return httpx.post(f"{server.url}/track", json=body, timeout=60, **kw)


def test_a_source_disabled_through_one_process_is_refused_by_both_within_the_bound(
    replicas: tuple[LiveServer, LiveServer],
) -> None:
    a, b = replicas
    source_id = _source(a, "to-disable")
    # Both processes have the source in memory as enabled.
    assert _track(a, source_id).status_code == 200
    assert _track(b, source_id).status_code == 200

    r = httpx.patch(f"{a.url}/sources/{source_id}", json={"enabled": False}, headers=a.admin, timeout=60)
    assert r.status_code == 200 and r.json()["enabled"] is False
    disabled_at = time.monotonic()
    assert _track(a, source_id).status_code == 403, "the process that disabled it refuses at once"
    while (status := _track(b, source_id).status_code) == 200:
        assert time.monotonic() - disabled_at < SOURCE_CACHE_SECONDS + 1.0, "still accepted past the bound"
        time.sleep(0.1)
    assert status == 403
    # And from then on, on both.
    assert _track(a, source_id).status_code == _track(b, source_id).status_code == 403


def test_a_bookmark_from_one_process_is_read_after_on_the_other(
    replicas: tuple[LiveServer, LiveServer],
) -> None:
    a, b = replicas
    source_id = _source(a, "bookmarks")
    email = f"{unique('rw')}@example.com"
    body = {
        "source": {"id": source_id},
        "session": {"id": unique("s")},
        "events": [{"type": "identify", "properties": {"email": email}}],
    }
    written = httpx.post(f"{a.url}/track", json=body, timeout=60)
    assert written.status_code == 200, written.text
    bookmark = written.headers[HEADER]

    read = httpx.get(f"{b.url}/aliases/urn:email:{email}", headers={**b.admin, HEADER: bookmark}, timeout=60)
    assert read.status_code == 200, read.text
    assert read.json()["profile"]["id"] == written.json()["profile"]["id"]

    bad = httpx.get(f"{b.url}/aliases/urn:email:{email}", headers={**b.admin, HEADER: "%%%"}, timeout=60)
    assert bad.status_code == 400 and HEADER in bad.json()["detail"]


def _workers(pid: int) -> list[int]:
    """The worker processes uvicorn's supervisor `pid` has spawned."""
    children: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        children += [int(c) for c in (task / "children").read_text().split()]
    return [c for c in children if b"spawn_main" in Path(f"/proc/{c}/cmdline").read_bytes()]


def test_serve_with_two_workers_answers_from_two_processes_on_one_port(
    settings_env: dict[str, str], client: Any, tmp_path: Path
) -> None:
    port = neo4j_local.free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, **settings_env, "IDGRAPH_PORT": str(port)}
    with (tmp_path / "serve.log").open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--workers", "2"], env=env, stdout=log, stderr=log
        )
        try:
            deadline = time.monotonic() + 180
            while True:
                assert proc.poll() is None, (tmp_path / "serve.log").read_text()[-3000:]
                assert time.monotonic() < deadline, (tmp_path / "serve.log").read_text()[-3000:]
                try:
                    if (
                        httpx.get(f"{url}/health", timeout=5).status_code == 200
                        and len(_workers(proc.pid)) == 2
                    ):
                        break
                except httpx.TransportError:
                    pass
                time.sleep(0.5)
            workers = _workers(proc.pid)
            admin = {"Authorization": f"Bearer {settings_env['IDGRAPH_ADMIN_TOKEN']}"}
            created = httpx.post(f"{url}/sources", json={"name": "workers"}, headers=admin, timeout=60)
            assert created.status_code == 201, created.text
            # New connections go to either worker; every one of them serves the whole API.
            for _ in range(10):
                r = _track(LiveServer(url, admin), created.json()["id"], headers={"Connection": "close"})
                assert r.status_code == 200, r.text
        finally:
            proc.send_signal(signal.SIGINT)
            proc.wait(timeout=60)
    assert len(workers) == 2
    assert all(not Path(f"/proc/{w}").exists() for w in workers), "a worker outlived `idgraph serve`"
