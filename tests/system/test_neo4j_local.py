"""The embedded Neo4j: data survives a restart, and stopping leaves no JVM behind."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import neo4j

from app import neo4j_local
from tests.helpers import java_alive


def test_restart_keeps_data_and_stop_leaves_no_process(tmp_path: Path) -> None:
    data_dir = tmp_path / "neo4j"
    first = neo4j_local.start(data_dir, heap="512m", page_cache="64m")
    try:
        with neo4j.GraphDatabase.driver(first.uri, auth=None) as driver:
            driver.execute_query("CREATE (:Marker {name: 'kept'})")
        assert neo4j_local.status(data_dir) is not None
    finally:
        first.stop()
    assert not java_alive(first.pid)
    assert neo4j_local.status(data_dir) is None

    second = neo4j_local.start(data_dir, heap="512m", page_cache="64m")
    try:
        with neo4j.GraphDatabase.driver(second.uri, auth=None) as driver:
            records, _, _ = driver.execute_query("MATCH (m:Marker) RETURN m.name AS name")
        assert [r["name"] for r in records] == ["kept"]
    finally:
        second.stop()
    assert not java_alive(second.pid)


def test_neo4j_exits_when_its_python_parent_is_killed(tmp_path: Path) -> None:
    """`idgraph serve` killed hard must not leave its Neo4j running."""
    data_dir = tmp_path / "orphan"
    script = (
        "import sys, time\n"
        "from app import neo4j_local\n"
        f"n = neo4j_local.start({str(data_dir)!r}, heap='512m', page_cache='64m')\n"
        "print(n.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert parent.stdout is not None
        jvm_pid = int(parent.stdout.readline())
        assert java_alive(jvm_pid)
    finally:
        parent.send_signal(signal.SIGKILL)
        parent.wait()
    deadline = time.monotonic() + 60
    while java_alive(jvm_pid) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not java_alive(jvm_pid), "Neo4j outlived the process that started it"
