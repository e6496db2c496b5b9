"""Ingestion throughput: `POST /track` through HTTP vs the same graph delta written by raw UNWIND Cypher.

    .venv/bin/python -m bench.ingest              # ~3-4 min, writes bench/results/ingest.json
    .venv/bin/python -m bench.ingest --profile    # API under pyinstrument: results/ingest_profile.txt

One embedded Neo4j (heap 1g, page cache 256m). The API runs as its own process, `uvicorn --factory
app.main:app_from_env` (one worker, what `idgraph serve` runs) on a free 127.0.0.1 port. Each request is a
new visitor: a new session with `batch` page-view events and one `urn:anonymous_id` alias, so the server
creates a session, an alias, a profile and its id handle, and the events bound to the session. One webhook
is registered for every identity change (`--no-webhook`: none), its receiver a sink in this process
(bench/webhook_sink.py): each request also writes a `profile-created` feed entry, and the API's delivery
worker POSTs it, while the load runs (`webhook_deliveries_received`).

- `http`: concurrent clients POST /track with `batch` events (1 or 100), each on a keep-alive connection of
  bench/loadgen.py (a minimal client: the generator shares the two cores with the API and Neo4j, and httpx
  alone took about 1.5 ms of CPU per request);
- `raw`: the same clients' worth of concurrency writes the same delta (events MERGEd on their dedup key with
  the same properties, session, alias, profile, handle, BELONGS_TO / HAS_ALIAS / BOUND_TO) with one
  statement per request, `bench/ingest_cypher/raw_track.cypher`, through the app's own driver
  (`app.store.driver.create_driver`), no HTTP.

The two alternate (http, raw, three times) for each batch size, after a warm-up of each (20 s: a fresh Neo4j
keeps compiling the statements' code paths for a while, and the app's statements are larger than the raw
one, so a short warm-up measured the JIT rather than the app); the figure is the ratio of the medians of
events/s (three rounds: on this shared machine one phase in a few comes out a third slower for no reason of
its own, and a median of two is their mean). The API process's RSS is sampled during the HTTP phases
(`api_rss_mb`: the largest sample), and its CPU time per event is reported. The machine is shared: read
ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from app.store.catalog import QueryCatalog
from bench._common import (
    HOST,
    RESULTS,
    ApiServer,
    Graph,
    api_env,
    arguments,
    connect,
    cpu_seconds,
    ensure_source,
    local_neo4j,
    rss_mb,
    uvicorn_module,
    write_result,
)
from bench.loadgen import KeepAliveConnection
from bench.webhook_sink import SINK_ENV, WebhookSink, register
from graph_model.enrichment import event_fields

ADMIN = "bench-" + uuid.uuid4().hex
SOURCE = "bench-ingest"
PAGES = ["https://shop.example/", "https://shop.example/catalog?utm_source=news", "https://shop.example/cart"]
RAW = QueryCatalog("bench.ingest_cypher")
_json = msgspec.json.Encoder()


def api_server(neo4j_uri: str, data_dir: Path, profile_to: Path | None = None) -> ApiServer:
    """The app under uvicorn in its own process (optionally under pyinstrument), no in-process purge; its
    webhooks may target 127.0.0.1 (the sink of --webhook)."""
    env = api_env(neo4j_uri, data_dir, ADMIN, IDGRAPH_PURGE_INTERVAL_SECONDS="0", **SINK_ENV)
    return ApiServer(env, lambda port: uvicorn_module(port, profile_to))


class Workload:
    """New visitors: a session, a device alias and `batch` page views each; ids unique across the run."""

    def __init__(self, batch: int) -> None:
        self.batch = batch
        self.t0 = datetime(2026, 3, 1, tzinfo=UTC)

    def visit(self) -> dict[str, Any]:
        tag = uuid.uuid4().hex
        return {
            "session": f"s-{tag}",
            "device": f"d-{tag}",
            "events": [
                {
                    "id": f"e-{tag}-{i}",
                    "time": self.t0 + timedelta(seconds=i),
                    "url": PAGES[i % len(PAGES)],
                }
                for i in range(self.batch)
            ],
        }

    @staticmethod
    def track_body(visit: dict[str, Any]) -> bytes:
        return _json.encode(
            {
                "source": {"id": SOURCE},
                "session": {"id": visit["session"]},
                "events": [
                    {
                        "type": "page-view",
                        "id": e["id"],
                        "time": e["time"].isoformat(),
                        "properties": {"url": e["url"]},
                    }
                    for e in visit["events"]
                ],
                "aliases": [f"urn:anonymous_id:{visit['device']}"],
            }
        )

    @staticmethod
    def raw_params(visit: dict[str, Any]) -> dict[str, Any]:
        now = datetime.now(UTC)
        events = []
        for e in visit["events"]:
            props = {"url": e["url"]}
            events.append(
                {
                    "key": f"{SOURCE}|ext|{e['id']}",
                    "id": str(uuid.uuid4()),
                    "external_id": e["id"],
                    "type": "page-view",
                    "time": e["time"],
                    "properties_json": _json.encode(props).decode(),
                    "context_json": "{}",
                    "enriched": event_fields(props, {}, None),
                }
            )
        times = [e["time"] for e in visit["events"]]
        return {
            "profile_id": str(uuid.uuid4()),
            "session_id": visit["session"],
            "source_id": SOURCE,
            "urn": f"urn:anonymous_id:{visit['device']}",
            "alias_value": visit["device"],
            "first": min(times),
            "last": max(times),
            "now": now,
            "request_id": str(uuid.uuid4()),
            "events": events,
        }


async def drive(call: Callable[[], Awaitable[None]], concurrency: int, seconds: float) -> tuple[int, float]:
    """Run `call` from `concurrency` workers for `seconds`; the number of calls done and the elapsed time."""
    done = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            await call()
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, time.perf_counter() - started


async def phase(
    mode: str, batch: int, server: ApiServer, graph: Graph, concurrency: int, seconds: float
) -> dict[str, Any]:
    work = Workload(batch)
    rss: list[float] = []
    errors = 0
    connections: asyncio.Queue[KeepAliveConnection] = asyncio.Queue()
    if mode == "http":
        for _ in range(concurrency):
            connections.put_nowait(KeepAliveConnection(HOST, server.port))

        async def call() -> None:
            nonlocal errors
            connection = await connections.get()
            try:
                status, _ = await connection.post("/track", work.track_body(work.visit()))
            finally:
                connections.put_nowait(connection)
            if status != 200:
                errors += 1

    else:
        # Straight through the driver, not the repository: the floor is the statement alone.
        raw, driver, database = RAW["raw_track"], graph.driver, graph.database

        async def call() -> None:
            await driver.execute_query(raw, work.raw_params(work.visit()), database_=database)

    async def sample() -> None:
        while True:
            rss.append(rss_mb(server.pid))
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample())
    cpu0 = cpu_seconds(server.pid)
    try:
        requests, elapsed = await drive(call, concurrency, seconds)
    finally:
        sampler.cancel()
        while not connections.empty():
            await connections.get_nowait().close()
    cpu = cpu_seconds(server.pid) - cpu0
    events = requests * batch
    return {
        "mode": mode,
        "batch": batch,
        "requests": requests,
        "errors": errors,
        "events_per_s": round(events / elapsed, 1),
        "requests_per_s": round(requests / elapsed, 1),
        "api_cpu_ms_per_event": round(1000 * cpu / events, 3) if mode == "http" and events else None,
        "api_rss_mb": round(max(rss), 1) if mode == "http" and rss else None,
    }


async def measure(
    server: ApiServer, uri: str, args: argparse.Namespace, sink: WebhookSink | None = None
) -> dict[str, Any]:
    async with connect(uri) as graph:
        ensure_source(server.url, ADMIN, SOURCE, "ingest bench")
        if sink is not None:  # one webhook for every identity change: the feed's and the worker's cost
            register(server.url, ADMIN, sink.url)
        phases: list[dict[str, Any]] = []
        for batch in args.batches:
            for mode in ("http", "raw"):  # warm-up: compile plans, fill caches
                await phase(mode, batch, server, graph, args.concurrency, args.warmup)
            for _ in range(args.rounds):
                for mode in ("http", "raw"):
                    result = await phase(mode, batch, server, graph, args.concurrency, args.seconds)
                    print(json.dumps(result), file=sys.stderr, flush=True)
                    phases.append(result)
        idle_rss = rss_mb(server.pid)
    out: dict[str, Any] = {"phases": phases, "api_rss_mb_idle_after": round(idle_rss, 1)}
    for batch in args.batches:
        http = [p["events_per_s"] for p in phases if p["batch"] == batch and p["mode"] == "http"]
        raw = [p["events_per_s"] for p in phases if p["batch"] == batch and p["mode"] == "raw"]
        out[f"ingest_ratio_batch{batch}"] = round(statistics.median(http) / statistics.median(raw), 3)
        out[f"ingest_events_per_s_batch{batch}"] = round(statistics.median(http), 1)
        out[f"raw_events_per_s_batch{batch}"] = round(statistics.median(raw), 1)
        out[f"api_cpu_ms_per_event_batch{batch}"] = round(
            statistics.median(
                p["api_cpu_ms_per_event"] for p in phases if p["batch"] == batch and p["mode"] == "http"
            ),
            3,
        )
    out["api_rss_mb"] = max(p["api_rss_mb"] for p in phases if p["api_rss_mb"] is not None)
    return out


def trim_profile(path: Path, min_seconds: float = 0.5) -> None:
    """Keep the header and the frames that took at least `min_seconds` (--show-all writes megabytes)."""
    kept = []
    for line in path.read_text().splitlines():
        head = line.lstrip(" │├└─")
        number = head.split(" ", 1)[0]
        try:
            if float(number) < min_seconds:
                continue
        except ValueError:
            pass
        kept.append(line)
    path.write_text("\n".join(kept) + "\n")


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--batches", type=int, nargs="+", default=[100, 1])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=12.0, help="length of each measured phase")
    parser.add_argument("--warmup", type=float, default=20.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--profile", action="store_true", help="run the API under pyinstrument (no json written)"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "ingest.json")
    parser.add_argument(
        "--webhook",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="register one webhook for every identity change (a sink in this process) before measuring",
    )
    args = parser.parse_args()
    profile_to = RESULTS / "ingest_profile.txt" if args.profile else None
    started = time.perf_counter()
    with (
        local_neo4j("idgraph-ingest-", heap="1g", page_cache="256m") as neo4j,
        api_server(neo4j.uri, neo4j.workdir / "api", profile_to) as server,
        WebhookSink() as sink,
    ):
        result = asyncio.run(measure(server, neo4j.uri, args, sink if args.webhook else None))
        result["webhook_deliveries_received"] = sink.received if args.webhook else None
    result = {
        "ingest_ratio_batch100": result.get("ingest_ratio_batch100"),
        "ingest_ratio_batch1": result.get("ingest_ratio_batch1"),
        "ingest_events_per_s_batch100": result.get("ingest_events_per_s_batch100"),
        "api_rss_mb": result["api_rss_mb"],
        **result,
        "concurrency": args.concurrency,
        "seconds_per_phase": args.seconds,
        "rounds": args.rounds,
        "webhook_registered": args.webhook,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "seconds": round(time.perf_counter() - started, 1),
    }
    if profile_to is not None:
        trim_profile(profile_to)
        print(f"profile written to {profile_to}", file=sys.stderr)
        return
    headline = ("ingest_ratio_batch100", "ingest_ratio_batch1", "ingest_events_per_s_batch100", "api_rss_mb")
    write_result(args.out, result, *headline)


if __name__ == "__main__":
    main()
