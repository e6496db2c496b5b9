"""Ingestion with several API processes on one Neo4j: events/s with N processes over events/s with one.

    .venv/bin/python -m bench.scaling                        # ~2 min, writes bench/results/scaling.json
    .venv/bin/python -m bench.scaling --processes 1 2 4 --out bench/results/scaling_1_2_4.json

One embedded Neo4j (heap 1g, page cache 256m) and up to max(--processes) API processes, each the app under
uvicorn on a port of its own (bench/ingest.py's `api_server`, no in-process purge). The load is
bench/ingest.py's: new visitors POSTing /track with `batch` page views, `--concurrency` keep-alive
connections (bench/loadgen.py) in all, connection i to process i mod N. For each batch size the process counts
alternate (1, 2, 1, 2, ... after a warm-up of each), and a figure is the median of its rounds.

On this machine the load generator, every API process and Neo4j share two cores, so more API processes can
only help while the one API process is what waits, not the cores. Each phase therefore reports where the CPU
went: utime+stime from /proc/<pid>/stat of the API processes together, of Neo4j's JVM, and of this process
(the load generator), as cores used (CPU seconds per second). `ingest_scaling_2_workers` is the batch-1 ratio
(events/s with 2 processes over 1), the case where the API's own CPU per event is largest.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import statistics
import sys
import time
from pathlib import Path
from typing import Any

from bench._common import (
    HOST,
    RESULTS,
    ApiServer,
    arguments,
    cpu_seconds,
    ensure_source,
    local_neo4j,
    write_result,
)
from bench.ingest import ADMIN, SOURCE, Workload, api_server, drive
from bench.loadgen import KeepAliveConnection
from bench.raw_baseline import track_body


def _cores(cpu: float, elapsed: float) -> float:
    return round(cpu / elapsed, 2) if elapsed else 0.0


async def phase(
    servers: list[ApiServer], neo4j_pid: int, batch: int, concurrency: int, seconds: float
) -> dict[str, Any]:
    """`concurrency` connections spread over `servers`, each sending new visitors of `batch` events."""
    work = Workload(batch, returning=0.0)  # new visitors only: each request creates a profile
    connections: asyncio.Queue[KeepAliveConnection] = asyncio.Queue()
    for i in range(concurrency):
        connections.put_nowait(KeepAliveConnection(HOST, servers[i % len(servers)].port))
    errors = 0

    async def call() -> bool:
        nonlocal errors
        visitor = work.take()
        connection = await connections.get()
        try:
            status, _ = await connection.post("/track", track_body(SOURCE, visitor, visitor.visit()))
        finally:
            connections.put_nowait(connection)
        if status != 200:
            errors += 1
            return False
        return True

    pids = [s.pid for s in servers]
    api0 = sum(cpu_seconds(p) for p in pids)
    neo0, gen0 = cpu_seconds(neo4j_pid), cpu_seconds(os.getpid())
    try:
        requests, elapsed = await drive(call, concurrency, seconds)
    finally:
        while not connections.empty():
            await connections.get_nowait().close()
    api = sum(cpu_seconds(p) for p in pids) - api0
    neo, gen = cpu_seconds(neo4j_pid) - neo0, cpu_seconds(os.getpid()) - gen0
    events = requests * batch
    return {
        "processes": len(servers),
        "batch": batch,
        "requests": requests,
        "errors": errors,
        "events_per_s": round(events / elapsed, 1),
        "cores_api": _cores(api, elapsed),
        "cores_neo4j": _cores(neo, elapsed),
        "cores_loadgen": _cores(gen, elapsed),
        "api_cpu_ms_per_event": round(1000 * api / events, 3) if events else None,
        "neo4j_cpu_ms_per_event": round(1000 * neo / events, 3) if events else None,
    }


def _median(phases: list[dict[str, Any]], key: str) -> float:
    return round(statistics.median(p[key] for p in phases), 3)


def summarise(phases: list[dict[str, Any]], counts: list[int], batches: list[int]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for batch in batches:
        base = statistics.median(
            p["events_per_s"] for p in phases if p["batch"] == batch and p["processes"] == 1
        )
        for n in counts:
            mine = [p for p in phases if p["batch"] == batch and p["processes"] == n]
            key = f"batch{batch}_{n}_processes"
            out[key] = {
                "events_per_s": _median(mine, "events_per_s"),
                "over_1_process": round(_median(mine, "events_per_s") / base, 3) if base else None,
                **{k: _median(mine, k) for k in ("cores_api", "cores_neo4j", "cores_loadgen")},
            }
    return out


async def measure(servers: list[ApiServer], neo4j_pid: int, args: argparse.Namespace) -> list[dict[str, Any]]:
    ensure_source(servers[0].url, ADMIN, SOURCE, "scaling bench")
    phases: list[dict[str, Any]] = []
    for batch in args.batches:
        for n in args.processes:  # warm-up: every process compiles its plans and fills its caches
            await phase(servers[:n], neo4j_pid, batch, args.concurrency, args.warmup)
        for _ in range(args.rounds):
            for n in args.processes:
                result = await phase(servers[:n], neo4j_pid, batch, args.concurrency, args.seconds)
                print(json.dumps(result), file=sys.stderr, flush=True)
                phases.append(result)
    return phases


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 100])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=8.0, help="length of each measured phase")
    parser.add_argument("--warmup", type=float, default=10.0)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--out", type=Path, default=RESULTS / "scaling.json")
    args = parser.parse_args()
    if 1 not in args.processes:
        parser.error("--processes must include 1, the baseline")
    started = time.perf_counter()
    with (
        local_neo4j("idgraph-scaling-", heap="1g", page_cache="256m") as neo4j,
        contextlib.ExitStack() as stack,
    ):
        assert neo4j.pid is not None
        # Started together, then waited for: each warms up on its own, which on a busy machine takes a while.
        servers = [api_server(neo4j.uri, neo4j.workdir / f"api-{i}") for i in range(max(args.processes))]
        for server in servers:
            stack.callback(server.stop)
        for server in servers:
            server.wait_ready(timeout=300)
        phases = asyncio.run(measure(servers, neo4j.pid, args))
    figures = summarise(phases, args.processes, args.batches)
    ratio = figures.get("batch1_2_processes", {}).get("over_1_process")
    result = {
        "ingest_scaling_2_workers": ratio,
        "ingest_scaling_2_workers_batch100": figures.get("batch100_2_processes", {}).get("over_1_process"),
        **figures,
        "phases": phases,
        "concurrency": args.concurrency,
        "seconds_per_phase": args.seconds,
        "rounds": args.rounds,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_result(args.out, result, "ingest_scaling_2_workers", "ingest_scaling_2_workers_batch100")


if __name__ == "__main__":
    main()
