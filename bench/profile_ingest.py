"""A/B of the ingest paths between this tree and another checkout of idgraph (a private development aid).

    .venv/bin/python -m bench.profile_ingest --base /tmp/base-checkout [--seconds 6 --rounds 3]

One embedded Neo4j; two APIs on it, this tree's and `--base`'s (run with PYTHONPATH at that checkout), each
on its own port. Phases alternate between the two (which goes first alternates too), `--rounds` times:
`/track` batches of 100 and of 1 (new visitors), Segment `/v1/batch` of 100 messages from 100 new users, and
of 100 messages of one user. Per phase: events/s, errors, the API's CPU ms per event (utime+stime of its
process). Prints one JSON line per phase and a summary of ratios (this / base) with their spread.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec

from bench._common import HOST, ApiServer, api_env, cpu_seconds, ensure_source, local_neo4j, uvicorn_module
from bench.ingest import ADMIN, SOURCE, Workload, drive
from bench.loadgen import KeepAliveConnection

_json = msgspec.json.Encoder()


def segment_body(users: int, per_user: int) -> bytes:
    t0 = datetime.now(UTC) - timedelta(minutes=5)
    messages = []
    tags = [uuid.uuid4().hex for _ in range(users)]
    for i in range(users * per_user):
        tag = tags[i % users]
        messages.append(
            {
                "type": "identify" if i < users else "track",
                "event": "Viewed",
                "userId": f"u-{tag}",
                "anonymousId": f"a-{tag}",
                "messageId": f"m-{tag}-{i}",
                "timestamp": (t0 + timedelta(milliseconds=i)).isoformat(),
                "traits": {"email": f"{tag}@example.com"} if i < users else {},
            }
        )
    return _json.encode({"batch": messages, "writeKey": SOURCE})


async def phase(name: str, server: ApiServer, concurrency: int, seconds: float) -> dict[str, Any]:
    connections: asyncio.Queue[KeepAliveConnection] = asyncio.Queue()
    for _ in range(concurrency):
        connections.put_nowait(KeepAliveConnection(HOST, server.port))
    errors = 0
    if name.startswith("track"):
        batch = int(name.removeprefix("track"))
        work = Workload(batch)
        path: str = "/track"
        make: Callable[[], bytes] = lambda: work.track_body(work.visit())  # noqa: E731
    else:
        batch = 100
        path = "/v1/batch"
        users, per_user = (100, 1) if name == "segment100u" else (1, 100)
        make = lambda: segment_body(users, per_user)  # noqa: E731

    async def call() -> None:
        nonlocal errors
        body = make()
        connection = await connections.get()
        try:
            status, _ = await connection.post(path, body)
        finally:
            connections.put_nowait(connection)
        if status != 200:
            errors += 1

    go: Callable[[], Awaitable[None]] = call
    cpu0 = cpu_seconds(server.pid)
    requests, elapsed = await drive(go, concurrency, seconds)
    cpu = cpu_seconds(server.pid) - cpu0
    while not connections.empty():
        await connections.get_nowait().close()
    events = (requests - errors) * batch
    return {
        "phase": name,
        "events_per_s": round(events / elapsed, 1),
        "errors": errors,
        "cpu_ms_per_event": round(1000 * cpu / events, 3) if events else None,
    }


async def measure(servers: dict[str, ApiServer], args: argparse.Namespace) -> None:
    for server in servers.values():
        ensure_source(server.url, ADMIN, SOURCE, "profile bench")
    results: list[dict[str, Any]] = []
    for name in args.phases:
        for server in servers.values():  # warm-up
            await phase(name, server, args.concurrency, args.warmup)
        for n in range(args.rounds):
            order = list(servers.items())
            if n % 2:
                order.reverse()
            for side, server in order:
                result = {
                    "side": side,
                    "round": n,
                    **await phase(name, server, args.concurrency, args.seconds),
                }
                print(json.dumps(result), file=sys.stderr, flush=True)
                results.append(result)
    summary: dict[str, Any] = {}
    for name in args.phases:
        ratios = []
        for n in range(args.rounds):
            a, b = (
                next(r for r in results if r["phase"] == name and r["round"] == n and r["side"] == s)
                for s in ("this", "base")
            )
            ratios.append(a["events_per_s"] / b["events_per_s"] if b["events_per_s"] else float("nan"))
        side_rate = {
            s: statistics.median(r["events_per_s"] for r in results if r["phase"] == name and r["side"] == s)
            for s in servers
        }
        side_cpu = {
            s: statistics.median(
                r["cpu_ms_per_event"] or 0 for r in results if r["phase"] == name and r["side"] == s
            )
            for s in servers
        }
        summary[name] = {
            "ratio_median": round(statistics.median(ratios), 3),
            "ratio_min": round(min(ratios), 3),
            "ratio_max": round(max(ratios), 3),
            "events_per_s": side_rate,
            "cpu_ms_per_event": side_cpu,
        }
    print(json.dumps(summary, indent=1))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--base", type=Path, required=True)
    parser.add_argument("--phases", nargs="+", default=["segment100u", "track100", "track1", "segment1u"])
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--warmup", type=float, default=6.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--this-env", nargs="*", default=[], help="KEY=VALUE settings for this tree's API only"
    )
    args = parser.parse_args()
    with local_neo4j("idgraph-profile-ingest-") as neo4j:
        env = api_env(neo4j.uri, neo4j.workdir / "api", ADMIN, IDGRAPH_PURGE_INTERVAL_SECONDS="0")
        base_env = {**env, "IDGRAPH_DATA_DIR": str(neo4j.workdir / "base")}
        env |= dict(item.split("=", 1) for item in args.this_env)

        def base_command(port: int) -> list[str]:
            # The checkout first on sys.path (python -m would put the working directory, this tree, first).
            argv = ["uvicorn", *uvicorn_module(port)[3:]]
            code = f"import sys; sys.path.insert(0, {str(args.base)!r}); sys.argv = {argv!r}; "
            code += "from uvicorn.main import main; main()"
            return [sys.executable, "-c", code]

        this, base = ApiServer(env, uvicorn_module), ApiServer(base_env, base_command)
        try:
            for server in (this, base):
                print(f"ready in {server.wait_ready(timeout=900):.1f} s", file=sys.stderr, flush=True)
            asyncio.run(measure({"this": this, "base": base}, args))
        finally:
            this.stop()
            base.stop()


if __name__ == "__main__":
    main()
