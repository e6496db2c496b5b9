"""Neo4j outage (issue 9.2): a Neo4j and an app of the test's own; Neo4j is stopped in the middle of a load
and started again on the same data dir and port. The API answers 503 + Retry-After in bounded time (never a
500), /health says so, the API recovers without a restart, and a client that retries every non-2xx ends with
every event stored exactly once.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import neo4j

from app import neo4j_local
from tests.helpers import ADMIN, ADMIN_TOKEN, serve_app

CLIENTS = 4
EVENTS_PER_CLIENT = 40
MAX_LATENCY_S = 60.0  # driver: 5 s connect + 10 s acquisition + 15 s transaction retries, with slack


class Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.statuses: Counter[int] = Counter()
        self.acked: set[str] = set()
        self.max_latency = 0.0
        self.bad: list[str] = []

    def record(self, status: int, latency: float, response: httpx.Response | None) -> None:
        with self.lock:
            self.statuses[status] += 1
            self.max_latency = max(self.max_latency, latency)
            if response is not None and status == 503 and "retry-after" not in response.headers:
                self.bad.append("503 without Retry-After")
            if response is not None and status >= 500 and status != 503:
                self.bad.append(f"{status}: {response.text[:300]}")
            if response is not None and status == 503 and "Traceback" in response.text:
                self.bad.append("a stack trace in a 503")


def _client(url: str, source: str, n: int, stats: Stats, progress: list[int]) -> None:
    session = f"outage-session-{uuid.uuid4().hex[:8]}"
    with httpx.Client(base_url=url, timeout=120) as http:
        for i in range(n):
            event_id = f"{session}-{i}"
            event: dict[str, Any] = {"type": "page-view", "id": event_id, "properties": {"i": i}}
            if i % 10 == 0:  # identify events: aliases, and merges across clients sharing an email
                event = {
                    "type": "identify",
                    "id": event_id,
                    "properties": {"email": f"outage{i}@example.com"},
                }
            body = {"source": {"id": source}, "session": {"id": session}, "events": [event]}
            while True:
                started = time.monotonic()
                try:
                    response: httpx.Response | None = http.post("/track", json=body)
                    status = response.status_code if response is not None else 0
                except httpx.TransportError:
                    response, status = None, 0
                stats.record(status, time.monotonic() - started, response)
                if 200 <= status < 300:
                    with stats.lock:
                        stats.acked.add(event_id)
                        progress[0] += 1
                    break
                time.sleep(0.5)


def test_neo4j_outage_then_recovery(tmp_path: Path) -> None:
    port = neo4j_local.free_port()
    data_dir = tmp_path / "neo4j"
    db = neo4j_local.start(data_dir, port=port, heap="512m", page_cache="64m", timeout=300)
    env = {
        "NEO4J_URI": db.uri,
        "IDGRAPH_ADMIN_TOKEN": ADMIN_TOKEN,
        "IDGRAPH_DATA_DIR": str(tmp_path / "app"),
        "IDGRAPH_LOG_FORMAT": "json",
        "IDGRAPH_LOG_LEVEL": "WARNING",
        "IDGRAPH_PURGE_INTERVAL_SECONDS": "0",
    }
    stats = Stats()
    progress = [0]
    source = "outage-" + uuid.uuid4().hex[:6]
    try:
        with serve_app(env) as server:
            url = server.url
            r = httpx.post(f"{url}/sources", json={"id": source, "name": "outage"}, headers=ADMIN, timeout=60)
            assert r.status_code == 201, r.text
            threads = [
                threading.Thread(target=_client, args=(url, source, EVENTS_PER_CLIENT, stats, progress))
                for _ in range(CLIENTS)
            ]
            for t in threads:
                t.start()
            deadline = time.monotonic() + 120
            while progress[0] < CLIENTS * EVENTS_PER_CLIENT // 4 and time.monotonic() < deadline:
                time.sleep(0.1)
            db.stop()  # Neo4j goes away in the middle of the load
            # /health reports it: 503 with Retry-After, in bounded time.
            started = time.monotonic()
            health = httpx.get(f"{url}/health", timeout=MAX_LATENCY_S)
            assert time.monotonic() - started < MAX_LATENCY_S
            assert health.status_code == 503 and health.json()["neo4j"] == "down"
            assert "retry-after" in health.headers
            # Clients see 503s (they keep retrying) ...
            deadline = time.monotonic() + 90
            while stats.statuses[503] < CLIENTS and time.monotonic() < deadline:
                time.sleep(0.2)
            assert stats.statuses[503] > 0, stats.statuses
            # ... until Neo4j is back on the same data and port; the app was never restarted.
            db = neo4j_local.start(data_dir, port=port, heap="512m", page_cache="64m", timeout=300)
            for t in threads:
                t.join(timeout=600)
            assert not any(t.is_alive() for t in threads), "clients did not finish after Neo4j came back"
            assert httpx.get(f"{url}/health", timeout=30).status_code == 200
        with neo4j.GraphDatabase.driver(db.uri) as driver:
            records, _, _ = driver.execute_query(
                "MATCH (e:Event {source_id: $source}) WHERE NOT e.system "
                "RETURN e.external_id AS id, count(*) AS n",
                source=source,
            )
        stored = {r["id"]: r["n"] for r in records}
    finally:
        db.stop()
    sent = CLIENTS * EVENTS_PER_CLIENT
    duplicates = sum(n - 1 for n in stored.values())
    print(
        f"\noutage: sent={sent} acknowledged={len(stats.acked)} stored={len(stored)} duplicates={duplicates} "
        f"statuses={dict(stats.statuses)} max_latency={stats.max_latency:.1f}s"
    )
    assert not stats.bad, stats.bad[:5]
    assert stats.max_latency < MAX_LATENCY_S
    assert len(stats.acked) == sent
    assert set(stored) == stats.acked
    assert duplicates == 0
