"""Ingestion throughput: `POST /track` through HTTP vs the same graph delta written by raw UNWIND Cypher.

    .venv/bin/python -m bench.ingest              # ~3-4 min, writes bench/results/ingest.json
    .venv/bin/python -m bench.ingest --profile    # API under pyinstrument: results/ingest_profile.txt

One embedded Neo4j (heap 1g, page cache 256m). The API runs as its own process, `uvicorn --factory
app.main:app_from_env` (one worker, what `idgraph serve` runs) on a free 127.0.0.1 port. Each request is a
visit of an anonymous visitor (bench/raw_baseline.py): half of them new (a new session, a new
`urn:anonymous_id` alias, so a profile and its id handle), half returning (a known session and alias, new
events), `batch` page views each (1 or 100).
One webhook is registered for every identity change (`--no-webhook`: none), its receiver a sink in this
process (bench/webhook_sink.py): each new visitor also writes a `profile-created` feed entry, and the API's
delivery worker POSTs it while the load runs (`webhook_deliveries_received`).

- `http`: concurrent clients POST /track, each on a keep-alive connection of bench/loadgen.py (a minimal
  client: the generator shares the two cores with the API and Neo4j, and httpx alone took about 1.5 ms of
  CPU per request); a request not answered 200 is an error and adds nothing to throughput;
- `raw`: the same concurrency writes the same visits' graph delta with one hand-written UNWIND statement
  per request, `bench/ingest_cypher/raw_track.cypher` (tests/api/test_raw_baseline.py asserts it leaves the
  same nodes, relationships and properties as the API), through the app's own driver
  (`app.store.driver.create_driver`, its settings), with ISO text times as the app sends them, no HTTP.

Before anything is measured, 30,000 earlier visitors (10 page views each) are written by the raw statement
(`--seed-visitors`, BENCH_INGEST_SEED_VISITORS; 0 for an empty graph): on an empty graph that doubles every
few seconds Neo4j plans each cached statement again whenever its statistics have moved by 75%, and the
API's statement (about three times the raw one's plan operators) took 2.4 s per plan against 1.1 s; a
deployment with history does not replan at that rate, and the figure is about the write, not the planner.
After a warm-up of each side (20 s: a fresh Neo4j keeps compiling the statements' code paths for a while),
the two alternate for three rounds per batch size, each round starting with the other side; the figure is
the median of the per-round ratios of events/s, with their [min, max] as `<key>_spread`. The API process's
RSS is sampled during the HTTP phases (`api_rss_mb`: the largest sample), and its CPU time (utime + stime)
per event is reported for each batch size, and each phase counts the plans Neo4j threw away as stale while
it ran (`replans`, from its debug.log; `replans_batch<N>` per side). BENCH_INGEST_SECONDS,
BENCH_INGEST_WARMUP and BENCH_INGEST_ROUNDS shorten a run while developing. The machine is shared: read
ratios, not absolutes.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from neo4j.exceptions import Neo4jError

from app.store.many_rounds import many_rounds
from bench._common import (
    HOST,
    RESULTS,
    ApiServer,
    Graph,
    LocalRun,
    api_env,
    arguments,
    connect,
    cpu_seconds,
    ensure_source,
    env_number,
    local_neo4j,
    round_spread,
    rss_mb,
    uvicorn_module,
    write_result,
)
from bench.loadgen import KeepAliveConnection
from bench.raw_baseline import RAW, RAW_STATEMENT, Visitor, loopback_client, raw_params, track_body
from bench.webhook_sink import SINK_ENV, WebhookSink, register

ADMIN = "bench-" + uuid.uuid4().hex
SOURCE = "bench-ingest"


def api_server(neo4j_uri: str, data_dir: Path, profile_to: Path | None = None) -> ApiServer:
    """The app under uvicorn in its own process (optionally under pyinstrument), no in-process purge; its
    webhooks may target 127.0.0.1 (the sink of --webhook)."""
    env = api_env(neo4j_uri, data_dir, ADMIN, IDGRAPH_PURGE_INTERVAL_SECONDS="0", **SINK_ENV)
    return ApiServer(env, lambda port: uvicorn_module(port, profile_to), ready_timeout=300)


class Workload:
    """Anonymous visitors (bench/raw_baseline.py): each call is a visit of `batch` page views, by a new
    visitor or, with probability `returning`, by one seen before in this phase (a known session and alias).
    A visitor is never in two calls at once, so neither side waits on the other's locks."""

    def __init__(self, batch: int, returning: float) -> None:
        self.batch = batch
        self.returning = returning
        self.idle: list[Visitor] = []
        self.rng = random.Random(batch)

    def take(self) -> Visitor:
        if self.idle and self.rng.random() < self.returning:
            return self.idle.pop(self.rng.randrange(len(self.idle)))
        return Visitor(self.batch)

    def give_back(self, visitor: Visitor) -> None:
        self.idle.append(visitor)


async def drive(call: Callable[[], Awaitable[bool]], concurrency: int, seconds: float) -> tuple[int, float]:
    """Run `call` from `concurrency` workers for `seconds`; the number of calls that succeeded (a call says
    so; a failure is counted by the caller as an error, never as throughput) and the elapsed time."""
    done = 0
    stop_at = time.perf_counter() + seconds

    async def worker() -> None:
        nonlocal done
        while time.perf_counter() < stop_at:
            if await call():
                done += 1

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return done, time.perf_counter() - started


async def phase(
    mode: str,
    work: Workload,
    server: ApiServer,
    graph: Graph,
    concurrency: int,
    seconds: float,
    neo4j: LocalRun,
) -> dict[str, Any]:
    batch, neo4j_pid = work.batch, neo4j.pid
    rss: list[float] = []
    errors = 0
    connections: asyncio.Queue[KeepAliveConnection] = asyncio.Queue()
    if mode == "http":
        for _ in range(concurrency):
            connections.put_nowait(KeepAliveConnection(HOST, server.port))

        async def call() -> bool:
            nonlocal errors
            visitor = work.take()
            body = track_body(SOURCE, visitor, visitor.visit())
            connection = await connections.get()
            try:
                status, _ = await connection.post("/track", body)
            finally:
                connections.put_nowait(connection)
            if status != 200:
                errors += 1
                return False
            work.give_back(visitor)
            return True

    else:
        # Straight through the app's driver (create_driver: its settings), not the repository: the floor is
        # the statement alone. The client is the one the API sees over loopback (bench/loadgen.py).
        raw, driver, database, client = RAW[RAW_STATEMENT], graph.driver, graph.database, loopback_client()

        async def call() -> bool:
            nonlocal errors
            visitor = work.take()
            try:
                await driver.execute_query(
                    raw, raw_params(SOURCE, visitor, visitor.visit(), client), database_=database
                )
            except Neo4jError:
                errors += 1
                return False
            work.give_back(visitor)
            return True

    async def sample() -> None:
        while True:
            rss.append(rss_mb(server.pid))
            await asyncio.sleep(1.0)

    sampler = asyncio.create_task(sample())
    cpu0 = cpu_seconds(server.pid)
    neo4j_cpu0 = cpu_seconds(neo4j_pid) if neo4j_pid is not None else 0.0
    client_cpu0 = time.process_time()
    replans_before = neo4j.replans()
    started_at = time.time()
    try:
        requests, elapsed = await drive(call, concurrency, seconds)
    finally:
        sampler.cancel()
        while not connections.empty():
            await connections.get_nowait().close()
    cpu = cpu_seconds(server.pid) - cpu0
    neo4j_cpu = cpu_seconds(neo4j_pid) - neo4j_cpu0 if neo4j_pid is not None else None
    client_cpu = time.process_time() - client_cpu0
    replans = neo4j.replans_since(replans_before)
    events = requests * batch

    def per_event(seconds: float | None) -> float | None:
        return round(1000 * seconds / events, 3) if seconds is not None and events else None

    return {
        "mode": mode,
        "batch": batch,
        "requests": requests,
        "errors": errors,
        "events_per_s": round(events / elapsed, 1),
        "requests_per_s": round(requests / elapsed, 1),
        # The API's own CPU (utime + stime of its process) over the phase, per event stored.
        "api_cpu_ms_per_event": round(1000 * cpu / events, 3) if mode == "http" and events else None,
        "api_rss_mb": round(max(rss), 1) if mode == "http" and rss else None,
        # Where the two cores went, per event stored, on either side (the gap between the sides, in CPU):
        # Neo4j's process, the API's process (during a raw phase only its background work: the webhook
        # deliveries of the feed entries the raw statement writes too) and this process (the load
        # generator and the webhook sink, or the raw side's driver).
        "cpu_ms_per_event": {
            "neo4j": per_event(neo4j_cpu),
            "api": per_event(cpu),
            "bench_client": per_event(client_cpu),
        },
        # Statements Neo4j planned again during the phase (a stale plan thrown away: ingest_round takes
        # about three times the raw statement's planning), and when the phase began, to place them.
        "replans": replans,
        "started_at": round(started_at, 1),
    }


async def seed(graph: Graph, visitors: int, per_statement: int = 500) -> None:
    """`visitors` earlier visitors of 10 page views each, written before anything is measured (the raw
    statement in its many-rounds form, app/store/many_rounds.py, `per_statement` visitors at a time): the
    graph a deployment has after a while, whose statistics no longer move by the quarter of the measured
    phases' writes that makes Neo4j plan a cached statement again."""
    statement, client = many_rounds(RAW[RAW_STATEMENT]), loopback_client()
    started = time.perf_counter()
    for first in range(0, visitors, per_statement):
        rounds = []
        for i in range(first, min(visitors, first + per_statement)):
            visitor = Visitor(10)
            rounds.append(raw_params("bench-seed", visitor, visitor.visit(), client) | {"round_index": i})
        await graph.driver.execute_query(statement, rounds=rounds, database_=graph.database)
    print(f"seeded {visitors} visitors in {time.perf_counter() - started:.0f} s", file=sys.stderr, flush=True)


async def measure(
    server: ApiServer,
    neo4j: LocalRun,
    args: argparse.Namespace,
    sink: WebhookSink | None = None,
) -> dict[str, Any]:
    async with connect(neo4j.uri) as graph:
        ensure_source(server.url, ADMIN, SOURCE, "ingest bench")
        if sink is not None:  # one webhook for every identity change: the feed's and the worker's cost
            register(server.url, ADMIN, sink.url)
        if args.seed_visitors:
            await seed(graph, args.seed_visitors)
        phases: list[dict[str, Any]] = []
        for batch in args.batches:
            # Each side has visitors of its own, returning ones among them, for the whole batch size.
            work = {mode: Workload(batch, args.returning) for mode in ("http", "raw")}
            for mode in ("http", "raw"):  # warm-up: compile plans, fill caches
                await phase(mode, work[mode], server, graph, args.concurrency, args.warmup, neo4j)
            for round_ in range(args.rounds):
                # Rounds alternate which side goes first, so drift within a round falls on both alike.
                for mode in ("http", "raw") if round_ % 2 == 0 else ("raw", "http"):
                    result = await phase(
                        mode, work[mode], server, graph, args.concurrency, args.seconds, neo4j
                    )
                    result["round"] = round_
                    print(json.dumps(result), file=sys.stderr, flush=True)
                    phases.append(result)
        idle_rss = rss_mb(server.pid)
    out: dict[str, Any] = {"phases": phases, "api_rss_mb_idle_after": round(idle_rss, 1)}
    for batch in args.batches:

        def of(mode: str, key: str, batch: int = batch) -> list[float]:
            return [p[key] for p in phases if p["batch"] == batch and p["mode"] == mode]

        http, raw = of("http", "events_per_s"), of("raw", "events_per_s")
        out |= round_spread(
            f"ingest_ratio_batch{batch}", [h / r for h, r in zip(http, raw, strict=True) if r]
        )
        out |= round_spread(f"ingest_events_per_s_batch{batch}", http, 1)
        out |= round_spread(f"raw_events_per_s_batch{batch}", raw, 1)
        cpu = [v for v in of("http", "api_cpu_ms_per_event") if v is not None]
        out |= round_spread(f"api_cpu_ms_per_event_batch{batch}", cpu)
        for mode in ("http", "raw"):
            for side in ("neo4j", "api", "bench_client"):
                values = [
                    p["cpu_ms_per_event"][side] for p in phases if p["batch"] == batch and p["mode"] == mode
                ]
                if all(v is not None for v in values) and values:
                    out |= round_spread(f"cpu_ms_per_event_batch{batch}_{mode}_{side}", values)
        out[f"errors_batch{batch}"] = {"http": sum(of("http", "errors")), "raw": sum(of("raw", "errors"))}
        if all(p["replans"] is not None for p in phases):
            out[f"replans_batch{batch}"] = {mode: of(mode, "replans") for mode in ("http", "raw")}
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
    parser.add_argument(
        "--seconds",
        type=float,
        default=env_number("BENCH_INGEST_SECONDS", 12.0),
        help="length of each measured phase (BENCH_INGEST_SECONDS)",
    )
    parser.add_argument("--warmup", type=float, default=env_number("BENCH_INGEST_WARMUP", 20.0))
    parser.add_argument("--rounds", type=int, default=int(env_number("BENCH_INGEST_ROUNDS", 3)))
    parser.add_argument(
        "--returning", type=float, default=0.5, help="the share of visits by a visitor seen before"
    )
    parser.add_argument(
        "--profile", action="store_true", help="run the API under pyinstrument (no json written)"
    )
    parser.add_argument(
        "--seed-visitors",
        type=int,
        default=int(env_number("BENCH_INGEST_SEED_VISITORS", 30000)),
        help="visitors (10 events each) written before measuring (BENCH_INGEST_SEED_VISITORS)",
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
        result = asyncio.run(measure(server, neo4j, args, sink if args.webhook else None))
        result["webhook_deliveries_received"] = sink.received if args.webhook else None
    result = {
        "ingest_ratio_batch100": result.get("ingest_ratio_batch100"),
        "ingest_ratio_batch1": result.get("ingest_ratio_batch1"),
        "ingest_events_per_s_batch100": result.get("ingest_events_per_s_batch100"),
        "api_cpu_ms_per_event_batch1": result.get("api_cpu_ms_per_event_batch1"),
        "api_cpu_ms_per_event_batch100": result.get("api_cpu_ms_per_event_batch100"),
        "api_rss_mb": result["api_rss_mb"],
        **result,
        "concurrency": args.concurrency,
        "seconds_per_phase": args.seconds,
        "rounds": args.rounds,
        "returning": args.returning,
        "seed_visitors": args.seed_visitors,
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
