"""The API process's own CPU per request: `POST /track` (batch 1 and 100) and `GET /aliases/{urn}`.

    .venv/bin/python -m bench.api_cpu                      # writes bench/results/api_cpu.json
    .venv/bin/python -m bench.api_cpu --baseline DIR       # A/B: the same against the tree in DIR

On two shared cores every millisecond of CPU the API spends on a request is taken from Neo4j, so this counts
the API process's utime + stime over a fixed number of requests rather than throughput, which the other
processes on the machine disturb far more. One embedded Neo4j; the API runs as bench/ingest.py runs it
(`uvicorn --factory app.main:app_from_env`, one worker), driven by bench/loadgen.py keep-alive connections
with the visitors of bench/raw_baseline.py (half new, half returning) and, for the lookups, GET /aliases of
their device aliases with the admin token. No webhook is registered (bench/ingest.py registers one): the
figures are the requests' own, without the delivery worker's.

With `--baseline DIR` (a checkout of another commit, e.g. `git archive HEAD | tar -x -C DIR`), a second API
process runs DIR's code on the same Neo4j and the two take turns phase by phase, so drift falls on both;
the figure per workload is the median over the rounds, with their [min, max].
BENCH_API_CPU_REQUESTS and BENCH_API_CPU_ROUNDS shorten a run; `--neo4j-uri` reuses an empty, disposable
Neo4j instead of starting one. `--profile FILE` runs this tree's API under py-spy (not a dependency:
`.venv/bin/pip install py-spy`), writing collapsed stacks; the CPU figures are still the API's own.
"""

from __future__ import annotations

import asyncio
import json
import sys
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench._common import (
    HOST,
    RESULTS,
    ROOT,
    ApiServer,
    api_env,
    arguments,
    cpu_seconds,
    ensure_source,
    env_number,
    local_neo4j,
    process_tree,
    round_spread,
    uvicorn_module,
    write_result,
)
from bench.ingest import Workload
from bench.loadgen import KeepAliveConnection
from bench.raw_baseline import track_body

ADMIN = "bench-" + uuid.uuid4().hex
SOURCE = "bench-api-cpu"


def start(neo4j_uri: str, data_dir: Path, root: Path, profile_to: Path | None = None) -> ApiServer:
    """The API on `neo4j_uri` running the code of `root`: the bench's command, run from `root` (whose packages
    then come first on sys.path)."""
    env = api_env(neo4j_uri, data_dir, ADMIN, IDGRAPH_PURGE_INTERVAL_SECONDS="0")
    spy = [
        str(Path(sys.executable).with_name("py-spy")),
        "record",
        "-r",
        "250",
        "-f",
        "raw",
        "-o",
        str(profile_to),
        "--",
    ]
    prefix = ["env", "-C", str(root), *(spy if profile_to else [])]
    return ApiServer(env, lambda port: [*prefix, *uvicorn_module(port)], ready_timeout=300)


def api_pid(server: ApiServer) -> int:
    """The API's own process: under py-spy, the sampler's child."""
    return process_tree(server.pid)[-1]


async def api_cpu_per_request(
    server: ApiServer,
    requests: int,
    concurrency: int,
    send: Callable[[KeepAliveConnection, int], Awaitable[tuple[int, bytes]]],
) -> float:
    """CPU ms of the API process per request over `requests` requests, `concurrency` keep-alive connections
    each sending `send(connection, n)` (n counts down) until none are left; every answer must be 200."""
    left = requests
    cpu0 = cpu_seconds(api_pid(server))

    async def worker() -> None:
        nonlocal left
        connection = KeepAliveConnection(HOST, server.port)
        try:
            while left > 0:
                left -= 1
                status, body = await send(connection, left)
                assert status == 200, (status, body[:300])
        finally:
            await connection.close()

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return 1000 * (cpu_seconds(api_pid(server)) - cpu0) / requests


async def track_phase(server: ApiServer, work: Workload, requests: int, concurrency: int) -> float:
    """CPU ms of the API process per POST /track over `requests` requests."""

    async def send(connection: KeepAliveConnection, n: int) -> tuple[int, bytes]:
        visitor = work.take()
        status, body = await connection.post("/track", track_body(SOURCE, visitor, visitor.visit()))
        if status == 200:
            work.give_back(visitor)
        return status, body

    return await api_cpu_per_request(server, requests, concurrency, send)


async def lookup_phase(server: ApiServer, urns: list[str], requests: int, concurrency: int) -> float:
    """CPU ms of the API process per GET /aliases/{urn} (admin token) over `requests` requests."""
    auth = f"Authorization: Bearer {ADMIN}\r\n"

    async def send(connection: KeepAliveConnection, n: int) -> tuple[int, bytes]:
        return await connection.get(f"/aliases/{urns[n % len(urns)]}", auth)

    return await api_cpu_per_request(server, requests, concurrency, send)


async def measure(
    servers: dict[str, ApiServer], requests: int, rounds: int, concurrency: int
) -> dict[str, Any]:
    for server in servers.values():
        ensure_source(server.url, ADMIN, SOURCE, "api cpu bench")
    works = {name: {1: Workload(1, 0.5), 100: Workload(100, 0.5)} for name in servers}
    per: dict[str, dict[str, list[float]]] = {name: {} for name in servers}
    # warm-up: plans compiled, caches filled, visitors to return
    for name, server in servers.items():
        await track_phase(server, works[name][1], max(200, requests // 4), concurrency)
        await track_phase(server, works[name][100], 20, concurrency)
    urns = [v.urn for w in works.values() for v in w[1].idle][:2000]
    for server in servers.values():
        await lookup_phase(server, urns, 200, concurrency)
    names = list(servers)
    for round_ in range(rounds):
        order = names if round_ % 2 == 0 else names[::-1]
        for name in order:
            server = servers[name]
            got = {
                "track_batch1": await track_phase(server, works[name][1], requests, concurrency),
                "track_batch100": await track_phase(server, works[name][100], requests // 20, concurrency),
                "aliases_get": await lookup_phase(server, urns, requests, concurrency),
            }
            for key, value in got.items():
                per[name].setdefault(key, []).append(value)
            print(
                json.dumps({"server": name, "round": round_, **{k: round(v, 3) for k, v in got.items()}}),
                file=sys.stderr,
                flush=True,
            )
    out: dict[str, Any] = {}
    for name, figures in per.items():
        for key, values in figures.items():
            out |= round_spread(f"{name}_{key}_cpu_ms", values)
    return out


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--requests", type=int, default=int(env_number("BENCH_API_CPU_REQUESTS", 2000)))
    parser.add_argument("--rounds", type=int, default=int(env_number("BENCH_API_CPU_ROUNDS", 3)))
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--baseline", type=Path, default=None, help="another tree to compare against")
    parser.add_argument("--neo4j-uri", default=None, help="an empty, disposable Neo4j instead of a new one")
    parser.add_argument(
        "--profile", type=Path, default=None, help="py-spy (collapsed stacks) of this tree's API"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "api_cpu.json")
    args = parser.parse_args()
    with local_neo4j("idgraph-api-cpu-", heap="1g", page_cache="256m", uri=args.neo4j_uri) as neo4j:
        roots = {"this": ROOT} | ({"baseline": args.baseline.resolve()} if args.baseline else {})
        servers = {
            name: start(
                neo4j.uri, neo4j.workdir / f"api-{name}", root, args.profile if name == "this" else None
            )
            for name, root in roots.items()
        }
        try:
            for server in servers.values():
                server.__enter__()
            result = asyncio.run(measure(servers, args.requests, args.rounds, args.concurrency))
        finally:
            for server in servers.values():
                server.stop()
    result |= {"requests_per_phase": args.requests, "rounds": args.rounds, "concurrency": args.concurrency}
    write_result(args.out, result)
    print(json.dumps({k: v for k, v in result.items() if k.endswith("_cpu_ms")}))


if __name__ == "__main__":
    main()
