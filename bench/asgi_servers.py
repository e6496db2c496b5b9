"""uvicorn vs granian as the ASGI server for idgraph, against one real local Neo4j.

    .venv/bin/python -m bench.asgi_servers            # writes bench/results/asgi_servers.json
    .venv/bin/python -m bench.asgi_servers --rounds 3 --requests 2000 --duration 15

granian is not a project dependency: `.venv/bin/pip install granian` first.

One embedded Neo4j serves every run. Each run starts a fresh server process (1 worker, uvloop) on a free
127.0.0.1 port with the app built by `app.main:app_from_env`, warms it up, then drives `GET /health` and
`POST /track` with an asyncio httpx client (CONCURRENCY connections), each bounded by a request count and a
time limit, whichever comes first. Servers alternate (uvicorn, granian, uvicorn, granian, ...) so drift
(Neo4j store growth, JIT, neighbours on the machine) hits both.

Besides requests/s and latency percentiles, every phase records the CPU time the server process tree,
Neo4j, this client and everything else on the machine ("foreign") used, read from /proc. On a 2-core box
where the client shares the cores, server CPU-ms per request is the steadier number of the two, and the
foreign CPU says how much a neighbour disturbed the run.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import os
import platform
import secrets
import statistics
import sys
import time
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

import httpx

from bench._common import (
    CLK_TCK,
    HOST,
    RESULTS,
    ApiServer,
    api_env,
    arguments,
    cpu_seconds,
    ensure_source,
    local_neo4j,
    nearest_rank,
    process_tree,
    status_kb,
    write_result,
)

VENV_BIN = Path(sys.executable).parent
FACTORY = "app.main:app_from_env"
# name -> expected status. "nodb" is a route that does not exist: Litestar routing, the request-context
# middleware and the problem+json handler, no Neo4j. It shows the server's own overhead without the database.
ENDPOINTS = {"health": 200, "track": 200, "nodb": 404}
DISTURBED_FOREIGN_CORES = 0.25  # a phase where other processes used more than this is flagged "disturbed"


def server_command(server: str, port: int) -> list[str]:
    if server == "uvicorn":
        # What `idgraph serve` runs (app/cli.py): no access log, no proxy headers, keep-alive 5 s.
        return [
            str(VENV_BIN / "uvicorn"), "--factory", FACTORY,
            "--host", HOST, "--port", str(port), "--workers", "1",
            "--loop", "uvloop", "--http", "httptools",
            "--no-access-log", "--no-proxy-headers", "--timeout-keep-alive", "5", "--log-level", "warning",
        ]  # fmt: skip
    if server == "granian":
        # granian 2.x: --factory is a flag; --interface asgi runs the lifespan (asginl would not);
        # access log is off by default; 1 runtime thread per worker by default.
        return [
            str(VENV_BIN / "granian"), "--interface", "asgi", "--factory",
            "--host", HOST, "--port", str(port), "--workers", "1",
            "--loop", "uvloop", "--http", "1", "--log-level", "warning",
            FACTORY,
        ]  # fmt: skip
    raise ValueError(server)


# ---------------------------------------------------------------- /proc helpers


def system_busy_seconds() -> float:
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    idle = v[3] + v[4]  # idle + iowait
    return (sum(v[:8]) - idle) / CLK_TCK  # user..steal; guest is already inside user


def pss_kb(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as f:
            for line in f:
                if line.startswith("Pss:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def cmdline(pid: int) -> str:
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            return f.read().replace(b"\0", b" ").decode(errors="replace").strip()[:160]
    except OSError:
        return "?"


class CpuMeter:
    """CPU seconds used, between start() and stop(), by the server tree, Neo4j, this process and the rest."""

    def __init__(self, server_pid: int, neo4j_pid: int) -> None:
        self.server_pid, self.neo4j_pid = server_pid, neo4j_pid

    def _sample(self) -> tuple[float, float, float, float, float]:
        server = sum(cpu_seconds(p) for p in process_tree(self.server_pid))
        return (
            time.perf_counter(),
            server,
            cpu_seconds(self.neo4j_pid),
            time.process_time(),
            system_busy_seconds(),
        )

    def start(self) -> None:
        self.t0 = self._sample()

    def stop(self, requests: int) -> dict[str, float]:
        t1 = self._sample()
        wall, server, neo4j, client, system = (b - a for a, b in zip(self.t0, t1, strict=True))
        foreign = max(0.0, system - server - neo4j - client)
        return {
            "wall_s": round(wall, 3),
            "server_cpu_s": round(server, 2),
            "neo4j_cpu_s": round(neo4j, 2),
            "client_cpu_s": round(client, 2),
            "foreign_cpu_s": round(foreign, 2),
            "machine_busy_pct": round(100 * system / (wall * (os.cpu_count() or 1)), 1),
            "server_cpu_ms_per_req": round(1000 * server / requests, 3) if requests else 0.0,
            "disturbed": foreign > DISTURBED_FOREIGN_CORES * wall,
        }


async def wait_for_quiet(neo4j_pid: int, limit_s: float, window_s: float = 2.0) -> dict[str, float | bool]:
    """Wait (up to limit_s) for a window in which other processes use less than a tenth of a core."""
    began = time.perf_counter()
    foreign = float("nan")
    while True:
        a = (system_busy_seconds(), cpu_seconds(neo4j_pid), time.process_time())
        await asyncio.sleep(window_s)
        b = (system_busy_seconds(), cpu_seconds(neo4j_pid), time.process_time())
        foreign = max(0.0, (b[0] - a[0]) - (b[1] - a[1]) - (b[2] - a[2])) / window_s
        waited = time.perf_counter() - began
        if foreign < 0.1 or waited >= limit_s:
            return {"waited_s": round(waited, 1), "foreign_cores": round(foreign, 2), "quiet": foreign < 0.1}


# ---------------------------------------------------------------- load


def track_body() -> bytes:
    return json.dumps(
        {
            "source": {"id": "bench"},
            "session": {"id": str(uuid.uuid4())},
            "events": [{"type": "page-view", "properties": {"url": "https://x.io/"}}],
        }
    ).encode()


async def one(client: httpx.AsyncClient, endpoint: str) -> int:
    if endpoint == "health":
        r = await client.get("/health")
    elif endpoint == "track":
        r = await client.post("/track", content=track_body(), headers={"content-type": "application/json"})
    else:
        r = await client.get("/bench-no-such-route")
    await r.aread()
    return r.status_code


async def load(
    client: httpx.AsyncClient, endpoint: str, count: int, duration: float, concurrency: int
) -> dict:
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    issued = 0
    started = time.perf_counter()
    deadline = started + duration

    async def worker() -> None:
        nonlocal issued
        while issued < count and time.perf_counter() < deadline:
            issued += 1
            t0 = time.perf_counter()
            try:
                code = str(await one(client, endpoint))
            except httpx.HTTPError as exc:
                code = type(exc).__name__
            latencies.append(time.perf_counter() - t0)
            statuses[code] = statuses.get(code, 0) + 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    ok = statuses.get(str(ENDPOINTS[endpoint]), 0)
    return {
        "requests": len(latencies),
        "ok": ok,
        "statuses": statuses,
        "elapsed_s": round(elapsed, 3),
        "rps": round(ok / elapsed, 1),
        "p50_ms": round(1000 * nearest_rank(latencies, 50), 2),
        "p90_ms": round(1000 * nearest_rank(latencies, 90), 2),
        "p99_ms": round(1000 * nearest_rank(latencies, 99), 2),
        "max_ms": round(1000 * latencies[-1], 2) if latencies else None,
        "stopped_by": "count" if len(latencies) >= count else "time",
    }


# ---------------------------------------------------------------- one server run


def server(name: str, env: dict[str, str], logdir: Path, tag: str) -> ApiServer:
    """A fresh `name` server process on a free port, its output in `<logdir>/<tag>-<name>.log`."""
    return ApiServer(env, functools.partial(server_command, name), log=logdir / f"{tag}-{name}.log")


def memory(pid: int) -> dict[str, Any]:
    procs: list[dict[str, Any]] = []
    for p in process_tree(pid):
        procs.append(
            {"pid": p, "cmd": cmdline(p), "rss_mb": round((status_kb(p, "VmRSS") or 0) / 1024, 1),
             "pss_mb": round((pss_kb(p) or 0) / 1024, 1)}
        )  # fmt: skip
    # The process that runs the app: uvicorn's only process, granian's (last) forked worker.
    app_proc = procs[-1]
    return {
        "app_process_rss_mb": app_proc["rss_mb"],
        "tree_rss_mb": round(sum(p["rss_mb"] for p in procs), 1),
        "tree_pss_mb": round(sum(p["pss_mb"] for p in procs), 1),
        "processes": procs,
    }


async def prewarm_neo4j(env: dict[str, str], token: str, args: argparse.Namespace, logdir: Path) -> dict:
    """Unmeasured: drive both endpoints through a throwaway server so that Neo4j's JIT, query plans and page
    cache are warm before the first measured run; otherwise round 1 (always uvicorn) pays for it."""
    with server("uvicorn", env, logdir, "prewarm") as srv:
        ensure_source(srv.url, token, "bench", "bench")
        async with httpx.AsyncClient(base_url=srv.url, timeout=30) as client:
            # The first /track on a cold Neo4j compiles the ingestion queries: ~10 s for one request, and
            # 16 of them at once each wait that long. A few serial ones first, then the concurrent load.
            first = []
            for _ in range(3):
                t0 = time.perf_counter()
                await one(client, "track")
                first.append(round(time.perf_counter() - t0, 2))
            out: dict[str, Any] = {"first_serial_track_s": first}
            for endpoint, share in (("health", 0.3), ("track", 0.7)):
                s = await load(client, endpoint, 10**9, args.prewarm * share, args.concurrency)
                out[endpoint] = {k: s[k] for k in ("requests", "rps", "p50_ms", "p99_ms")}
        print(f"  prewarm (uvicorn, unmeasured): {out}", flush=True)
        return out


async def run_server(
    name: str,
    tag: str,
    env: dict[str, str],
    token: str,
    neo4j_pid: int,
    args: argparse.Namespace,
    logdir: Path,
) -> dict:
    quiet = await wait_for_quiet(neo4j_pid, args.quiet_wait) if args.quiet_wait > 0 else {}
    with server(name, env, logdir, tag) as srv:
        assert srv.ready_s is not None
        ensure_source(srv.url, token, "bench", "bench")
        limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
        async with httpx.AsyncClient(base_url=srv.url, limits=limits, timeout=30) as client:
            result: dict[str, Any] = {
                "server": name, "run": tag, "port": srv.port, "pid": srv.pid, "command": srv.command,
                "startup_s": round(srv.ready_s, 2), "quiet_before": quiet,
                "app_rss_mb_after_first_warmup": None, "endpoints": {},
            }  # fmt: skip
            for endpoint in ENDPOINTS:
                await load(client, endpoint, args.warmup, 60, args.concurrency)
                if result["app_rss_mb_after_first_warmup"] is None:
                    result["app_rss_mb_after_first_warmup"] = memory(srv.pid)["app_process_rss_mb"]
                meter = CpuMeter(srv.pid, neo4j_pid)
                meter.start()
                stats = await load(client, endpoint, args.requests, args.duration, args.concurrency)
                stats["cpu"] = meter.stop(stats["requests"])
                result["endpoints"][endpoint] = stats
                print(
                    f"  {tag:>3} {name:8} {endpoint:6} {stats['rps']:8.1f} req/s"
                    f"  p50 {stats['p50_ms']:7.2f} ms  p99 {stats['p99_ms']:7.2f} ms"
                    f"  ok {stats['ok']}/{stats['requests']}"
                    f"  server {stats['cpu']['server_cpu_ms_per_req']:.3f} cpu-ms/req"
                    f"  foreign cpu {stats['cpu']['foreign_cpu_s']:.1f}s",
                    flush=True,
                )
        result["memory_after"] = memory(srv.pid)
        mem = result["memory_after"]
        print(
            f"  {tag:>3} {name:8} RSS after run: app process {mem['app_process_rss_mb']} MB,"
            f" tree {mem['tree_rss_mb']} MB (PSS {mem['tree_pss_mb']} MB)",
            flush=True,
        )
        return result


# ---------------------------------------------------------------- summary


def solve3(m: list[list[float]], v: list[float]) -> list[float]:
    """Solve a 3x3 linear system (Cramer's rule)."""

    def det(a: list[list[float]]) -> float:
        return (
            a[0][0] * (a[1][1] * a[2][2] - a[1][2] * a[2][1])
            - a[0][1] * (a[1][0] * a[2][2] - a[1][2] * a[2][0])
            + a[0][2] * (a[1][0] * a[2][1] - a[1][1] * a[2][0])
        )

    d = det(m)
    return [det([[*row[:i], v[r], *row[i + 1 :]] for r, row in enumerate(m)]) / d for i in range(3)]


def drift_corrected_pct(runs: list[dict], endpoint: str, key: str) -> float | None:
    # key: a field of the endpoint's stats, or "cpu.<field>"
    """granian vs uvicorn in % after removing a linear trend over the run order.

    Alternating u, g, u, g puts granian one slot later in every pair, so a steady drift (Neo4j's JIT still
    warming makes later runs faster) favours it. Least squares of metric = a + b*slot + c*is_granian; with two
    rounds this is exact: c = (g2 + g4 - u1 - u3)/2 - (u3 - u1 + g4 - g2)/4. Returned: c as % of uvicorn's
    fitted value in the middle of the run.
    """
    rows = [
        (float(i), 1.0 if r["server"] == "granian" else 0.0, float(field(r["endpoints"][endpoint], key)))
        for i, r in enumerate(runs)
    ]
    if len(rows) < 4:
        return None
    xs = [(1.0, slot, g) for slot, g, _ in rows]
    ata = [[sum(x[i] * x[j] for x in xs) for j in range(3)] for i in range(3)]
    aty = [sum(x[i] * y for x, (_, _, y) in zip(xs, rows, strict=True)) for i in range(3)]
    a, b, c = solve3(ata, aty)
    base = a + b * (len(rows) - 1) / 2
    return round(100 * c / base, 1) if base else None


def field(stats: dict, key: str) -> Any:
    for part in key.split("."):
        stats = stats[part]
    return stats


def summarize(runs: list[dict]) -> dict:
    out: dict[str, Any] = {}
    for server in ("uvicorn", "granian"):
        mine = [r for r in runs if r["server"] == server]
        s: dict[str, Any] = {"runs": len(mine)}
        for endpoint in ENDPOINTS:
            eps = [r["endpoints"][endpoint] for r in mine]
            rps = [e["rps"] for e in eps]
            s[endpoint] = {
                "rps_median": round(statistics.median(rps), 1),
                "rps_each": rps,
                "rps_spread_pct": round(100 * (max(rps) - min(rps)) / statistics.median(rps), 1),
                "p50_ms_median": round(statistics.median(e["p50_ms"] for e in eps), 2),
                "p99_ms_median": round(statistics.median(e["p99_ms"] for e in eps), 2),
                "p99_ms_each": [e["p99_ms"] for e in eps],
                "server_cpu_ms_per_req_median": round(
                    statistics.median(e["cpu"]["server_cpu_ms_per_req"] for e in eps), 3
                ),
                "foreign_cpu_s_each": [e["cpu"]["foreign_cpu_s"] for e in eps],
                "disturbed_runs": sum(e["cpu"]["disturbed"] for e in eps),
                "rps_median_undisturbed": (
                    round(statistics.median(calm), 1)
                    if (calm := [e["rps"] for e in eps if not e["cpu"]["disturbed"]])
                    else None
                ),
                "errors": sum(e["requests"] - e["ok"] for e in eps),
            }
        s["app_process_rss_mb_after"] = [r["memory_after"]["app_process_rss_mb"] for r in mine]
        s["tree_rss_mb_after"] = [r["memory_after"]["tree_rss_mb"] for r in mine]
        s["tree_pss_mb_after"] = [r["memory_after"]["tree_pss_mb"] for r in mine]
        s["startup_s"] = [r["startup_s"] for r in mine]
        out[server] = s
    u, g = out["uvicorn"], out["granian"]

    def delta(endpoint: str, key: str) -> float:
        return round(100 * (g[endpoint][key] / u[endpoint][key] - 1), 1)

    out["granian_vs_uvicorn_pct"] = {
        endpoint: {
            "rps": delta(endpoint, "rps_median"),
            "p50": delta(endpoint, "p50_ms_median"),
            "p99": delta(endpoint, "p99_ms_median"),
            "server_cpu_per_req": delta(endpoint, "server_cpu_ms_per_req_median"),
        }
        for endpoint in ENDPOINTS
    }
    out["granian_vs_uvicorn_drift_corrected_pct"] = {
        endpoint: {
            "rps": drift_corrected_pct(runs, endpoint, "rps"),
            "server_cpu_per_req": drift_corrected_pct(runs, endpoint, "cpu.server_cpu_ms_per_req"),
        }
        for endpoint in ENDPOINTS
    }
    return out


def versions() -> dict[str, str]:
    v = {"python": platform.python_version()}
    for pkg in ("uvicorn", "granian", "uvloop", "httptools", "litestar", "neo4j", "httpx"):
        try:
            v[pkg] = metadata.version(pkg)
        except metadata.PackageNotFoundError:
            v[pkg] = "missing"
    return v


async def bench(
    args: argparse.Namespace, env: dict[str, str], token: str, neo4j_pid: int, logdir: Path
) -> tuple[dict, list]:
    prewarm = await prewarm_neo4j(env, token, args, logdir) if args.prewarm > 0 else {}
    runs = []
    order = ["uvicorn", "granian"] * args.rounds
    for i, name in enumerate(order, 1):
        runs.append(await run_server(name, str(i), env, token, neo4j_pid, args, logdir))
    return prewarm, runs


def main() -> int:
    p = arguments(__doc__)
    p.add_argument("--rounds", type=int, default=2, help="runs per server, alternated (default 2)")
    p.add_argument("--requests", type=int, default=3000, help="requests per endpoint per run (default 3000)")
    p.add_argument("--duration", type=float, default=12, help="seconds cap per endpoint per run (default 12)")
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--warmup", type=int, default=200, help="warm-up requests per endpoint per run")
    p.add_argument(
        "--quiet-wait",
        type=float,
        default=5,
        help="seconds to wait, before each run, for other load to stop",
    )
    p.add_argument("--prewarm", type=float, default=15, help="seconds of unmeasured load to warm Neo4j first")
    p.add_argument("--out", type=Path, default=RESULTS / "asgi_servers.json")
    args = p.parse_args()

    missing = [s for s in ("uvicorn", "granian") if not (VENV_BIN / s).exists()]
    if missing:
        print(f"missing in {VENV_BIN}: {missing} (.venv/bin/pip install granian)", file=sys.stderr)
        return 2

    began = time.time()
    load_before = os.getloadavg()
    print("starting Neo4j ...", flush=True)
    t0 = time.perf_counter()
    with local_neo4j("idgraph-bench-", heap="1g", page_cache="256m") as n:
        assert n.pid is not None
        print(f"Neo4j at {n.uri} (pid {n.pid}) in {time.perf_counter() - t0:.1f}s", flush=True)
        token = secrets.token_urlsafe(24)
        env = api_env(n.uri, n.workdir / "data", token, IDGRAPH_HOST=HOST)
        prewarm, runs = asyncio.run(bench(args, env, token, n.pid, n.workdir))
    result = {
        "benchmark": "uvicorn vs granian, 1 worker each, app.main:app_from_env, one local Neo4j",
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(began)),
        "total_s": round(time.time() - began, 1),
        "machine": {
            "cpus": os.cpu_count(),
            "loadavg_before": [round(x, 2) for x in load_before],
            "loadavg_after": [round(x, 2) for x in os.getloadavg()],
            "note": "client, server and Neo4j share these cores",
        },
        "versions": versions(),
        "params": {
            "rounds": args.rounds,
            "requests": args.requests,
            "duration_s": args.duration,
            "concurrency": args.concurrency,
            "warmup_per_endpoint": args.warmup,
            "neo4j_prewarm_s": args.prewarm,
            "quiet_wait_s": args.quiet_wait,
            "client": "httpx.AsyncClient",
            "neo4j": {"heap": "1g", "page_cache": "256m"},
        },
        "summary": summarize(runs),
        "prewarm": prewarm,
        "runs": runs,
    }
    write_result(args.out, result)
    print(json.dumps({"summary": result["summary"]}, indent=2))
    print(f"wrote {args.out} ({result['total_s']}s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
