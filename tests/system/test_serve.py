"""`idgraph serve` as a user runs it: it starts its own Neo4j, answers /health, keeps data across a restart,
and leaves no Neo4j behind when stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from app import neo4j_local
from tests.helpers import java_alive


def _request(url: str, body: dict[str, Any] | None = None, token: str | None = None) -> tuple[int, Any]:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, headers=headers, method="POST" if body is not None else "GET"
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:  # a cold JVM on a busy 2-core box
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read() or b"null")


def _serve(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k != "NEO4J_URI"}
    env |= {
        "IDGRAPH_DATA_DIR": str(data_dir),
        "IDGRAPH_PORT": str(port),
        "IDGRAPH_LOG_FORMAT": "json",
        "IDGRAPH_NEO4J_HEAP": "512m",
        "IDGRAPH_NEO4J_PAGE_CACHE": "64m",
    }
    env.pop("IDGRAPH_ADMIN_TOKEN", None)
    log = open(data_dir / "serve.log", "ab")  # noqa: SIM115 - closed with the process
    return subprocess.Popen([sys.executable, "-m", "app.cli", "serve"], env=env, stdout=log, stderr=log)


def _wait_healthy(base: str, proc: subprocess.Popen[bytes], data_dir: Path, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, (data_dir / "serve.log").read_text()[-3000:]
        try:
            if _request(f"{base}/health")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(
        "idgraph serve did not become healthy:\n" + (data_dir / "serve.log").read_text()[-3000:]
    )


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGINT)  # what Ctrl-C on `make run` sends
    proc.wait(timeout=90)


def test_serve_starts_neo4j_keeps_data_and_stops_it(tmp_path: Path) -> None:
    port = neo4j_local.free_port()
    base = f"http://127.0.0.1:{port}"
    proc = _serve(tmp_path, port)
    try:
        _wait_healthy(base, proc, tmp_path)
        token = (tmp_path / "admin-token").read_text().strip()
        assert _request(f"{base}/sources", {"id": "web", "name": "Website"}, token)[0] == 201
        status, body = _request(
            f"{base}/track",
            {
                "source": {"id": "web"},
                "session": {"id": "s-1"},
                "events": [{"type": "identify", "properties": {"email": "kept@example.com"}}],
            },
        )
        assert status == 200, body
        profile_id = body["profile"]["id"]
        jvm = neo4j_local.status(tmp_path / "neo4j")
        assert jvm is not None
    finally:
        _stop(proc)
    assert not java_alive(jvm["pid"]), "stopping the service left its Neo4j running"

    proc = _serve(tmp_path, port)
    try:
        _wait_healthy(base, proc, tmp_path)
        status, alias = _request(f"{base}/aliases/urn:email:kept@example.com", token=token)
        assert status == 200 and alias["profile"]["id"] == profile_id
    finally:
        _stop(proc)
