"""The other ways in: bulk import, Segment batches and the first request after start, each against /track.

    .venv/bin/python -m bench.ingest_paths        # writes bench/results/ingest_paths.json (~20 min)

Three figures, each measured in rounds that alternate which side goes first, the headline the median of the
per-round ratios with their [min, max] as `<key>_spread`:

- `import_vs_http_batch100`: `idgraph import` (app/services/bulk_import.py, run as the command a user runs,
  a process of its own) over POST /track with 100 events a request (8 concurrent keep-alive clients), in
  events/s, on the same data: the visits of bench/raw_baseline.py (100 page views each, a new visitor per
  line), one set of visitors per side so neither side finds the other's. Events/s counts the events stored
  for the side's source (a Cypher count) over the importer's own time (its report's `seconds`);
  `import_vs_http_batch100_whole_command` over the command's whole run, start-up included; five rounds
  (BENCH_IMPORT_ROUNDS) after one warm-up round that is not counted, in a graph that already holds 30,000
  earlier visitors (BENCH_IMPORT_SEED_VISITORS, written as bench/ingest.py writes its seed);
- `segment_batch100_vs_track_batch100`: POST /v1/batch of 100 messages from 100 distinct new users (identify
  with an email and track, alternating) over /track of 100 events of one new visitor, in events/s (a message
  is an event); `segment_one_user_batch100_vs_track_batch100` the same for 100 track messages of one user;
  a request not answered 200 is an error and adds nothing; `raw_100_identities_vs_100_events`, its floor
  without the API: the hand-written /track statement for 100 new visitors in one statement over the same
  statement for one visitor's 100 events;
- `first_request_vs_p50`: for each dialect, a fresh Neo4j and a fresh API; the first request of that dialect
  once /health says ok, over the p50 of the next ones (the same request with new ids); each dialect's figure
  is the median over BENCH_FIRST_STARTS (3) such starts, the headline the worst dialect, the spread over
  every start.

The API's CPU time (utime + stime of its process, /proc) per event is reported for the /track and Segment
phases. BENCH_PATHS_ROUNDS, BENCH_IMPORT_ROUNDS, BENCH_IMPORT_LINES, BENCH_IMPORT_SEED_VISITORS,
BENCH_SEGMENT_SECONDS, BENCH_FIRST_REQUESTS, BENCH_FIRST_STARTS and BENCH_FIRST_DIALECTS (comma-separated)
shorten a run while developing.
"""

from __future__ import annotations

import asyncio
import base64
import os
import platform
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import msgspec

from app.store.many_rounds import many_rounds
from bench._common import (
    HOST,
    RESULTS,
    ApiServer,
    LocalRun,
    api_env,
    arguments,
    connect,
    cpu_seconds,
    ensure_source,
    env_number,
    local_neo4j,
    percentile,
    round_spread,
    write_result,
)
from bench.ingest import drive, seed
from bench.loadgen import KeepAliveConnection
from bench.raw_baseline import RAW, RAW_STATEMENT, T0, Visitor, loopback_client, raw_params, track_body

ADMIN = "bench-" + uuid.uuid4().hex
ROUNDS = int(env_number("BENCH_PATHS_ROUNDS", 3))
# 400 lines of 100 events: with the importer's defaults (a chunk closes at 100 lines or 1,000 events, four
# chunks at once) that is 40 chunks of ten lines, four written side by side, as a back-fill of history is.
IMPORT_LINES = int(env_number("BENCH_IMPORT_LINES", 400))
# Each round is a few seconds a side, so one round's ratio swings widely: five, after a warm-up round.
IMPORT_ROUNDS = int(env_number("BENCH_IMPORT_ROUNDS", 5))
# Earlier visitors written first, as bench/ingest.py does: on a graph growing from empty Neo4j plans the
# statements again round after round, a cost that lands on whichever side runs then.
IMPORT_SEED = int(env_number("BENCH_IMPORT_SEED_VISITORS", 30_000))
SEGMENT_SECONDS = env_number("BENCH_SEGMENT_SECONDS", 10.0)
FIRST_REQUESTS = int(env_number("BENCH_FIRST_REQUESTS", 30))
FIRST_STARTS = int(env_number("BENCH_FIRST_STARTS", 3))
DIALECTS = tuple(
    (os.environ.get("BENCH_FIRST_DIALECTS") or "tracardi,segment,esp,loymax,converge").split(",")
)
CONCURRENCY = 8
_json = msgspec.json.Encoder()


def api_server(uri: str, workdir: Path) -> ApiServer:
    env = api_env(uri, workdir / "api", ADMIN, IDGRAPH_PURGE_INTERVAL_SECONDS="0")
    return ApiServer(env, log=workdir / "api.log", ready_timeout=300)


def stored_events(uri: str, source_id: str) -> int:
    import neo4j

    with neo4j.GraphDatabase.driver(uri, notifications_min_severity="OFF") as driver:
        records, _, _ = driver.execute_query(
            "MATCH (e:Event) WHERE e.source_id = $s RETURN count(e) AS n", s=source_id
        )
    return int(records[0]["n"])


# -- requests ---------------------------------------------------------------------------------------------


def segment_auth(source_id: str) -> str:
    return "Authorization: Basic " + base64.b64encode(f"{source_id}:".encode()).decode() + "\r\n"


def segment_many_users(n: int = 100) -> bytes:
    """A /v1/batch of `n` messages from `n` new users: identify (with an email) and track, alternating."""
    tag = uuid.uuid4().hex
    batch: list[dict[str, Any]] = []
    for i in range(n):
        user = {"userId": f"u-{tag}-{i}", "anonymousId": f"a-{tag}-{i}"}
        common = {"messageId": f"m-{tag}-{i}", "timestamp": T0.isoformat(), **user}
        if i % 2 == 0:
            batch.append({"type": "identify", "traits": {"email": f"u{i}-{tag}@example.com"}, **common})
        else:
            batch.append(
                {"type": "track", "event": "Product Viewed", "properties": {"sku": str(i)}, **common}
            )
    return _json.encode({"batch": batch})


def segment_one_user(n: int = 100) -> bytes:
    """A /v1/batch of `n` track messages of one new user."""
    tag = uuid.uuid4().hex
    return _json.encode(
        {
            "batch": [
                {
                    "type": "track",
                    "event": "Product Viewed",
                    "userId": f"u-{tag}",
                    "anonymousId": f"a-{tag}",
                    "messageId": f"m-{tag}-{i}",
                    "timestamp": T0.isoformat(),
                    "properties": {"sku": str(i)},
                }
                for i in range(n)
            ]
        }
    )


def first_request(dialect: str, source_id: str) -> tuple[str, bytes, str]:
    """One ordinary request of `dialect` with new ids: its path, body and extra header lines."""
    tag = uuid.uuid4().hex
    body: dict[str, Any]
    if dialect == "tracardi":
        visitor = Visitor(1)
        return "/track", track_body(source_id, visitor, visitor.visit()), ""
    if dialect == "segment":
        return "/v1/batch", segment_many_users(10), segment_auth(source_id)
    if dialect == "esp":
        body = {
            "events": [
                {
                    "eventType": "view",
                    "sessionId": f"s-{tag}",
                    "itemId": f"e-{tag}",
                    "timeStamp": T0.isoformat(),
                    "target": {"itemType": "page", "itemId": "home", "properties": {}},
                }
            ]
        }
        return "/events", _json.encode(body), f"X-Source-Id: {source_id}\r\n"
    if dialect == "loymax":
        body = {
            "source": source_id,
            "session_id": f"s-{tag}",
            "event_type": "page_view",
            "customer_id": f"c-{tag}",
            "event_id": f"e-{tag}",
            "timestamp": T0.isoformat(),
        }
        return "/web-events", _json.encode(body), ""
    if dialect == "converge":
        body = {
            "event_name": "Viewed Product",
            "event_id": f"e-{tag}",
            "session_id": f"s-{tag}",
            "aliases": [f"urn:email:{tag}@example.com"],
            "timestamp": T0.isoformat(),
        }
        return f"/converge/{source_id}", _json.encode(body), ""
    raise ValueError(dialect)


# -- phases -----------------------------------------------------------------------------------------------


async def load(
    server: ApiServer, path: str, body: Callable[[], bytes], events: int, seconds: float, headers: str = ""
) -> dict[str, Any]:
    """`CONCURRENCY` keep-alive clients POST `body()` to `path` for `seconds`; events/s of the requests
    answered 200 (`events` each), the others counted as errors, and the API's CPU per event."""
    done = errors = 0
    stop_at = time.perf_counter() + seconds

    async def client() -> None:
        nonlocal done, errors
        connection = KeepAliveConnection(HOST, server.port)
        try:
            while time.perf_counter() < stop_at:
                status, _ = await connection.post(path, body(), headers=headers)
                if status == 200:
                    done += 1
                else:
                    errors += 1
        finally:
            await connection.close()

    cpu0, started = cpu_seconds(server.pid), time.perf_counter()
    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))
    elapsed, cpu = time.perf_counter() - started, cpu_seconds(server.pid) - cpu0
    stored = done * events
    return {
        "requests": done,
        "errors": errors,
        "events_per_s": round(stored / elapsed, 1),
        "api_cpu_ms_per_event": round(1000 * cpu / stored, 3) if stored else None,
    }


def track_once(source_id: str) -> Callable[[], bytes]:
    def body() -> bytes:
        visitor = Visitor(100)
        return track_body(source_id, visitor, visitor.visit())

    return body


async def seed_graph(uri: str, visitors: int) -> None:
    async with connect(uri) as graph:
        await seed(graph, visitors)


def import_vs_http(neo4j: LocalRun, server: ApiServer) -> dict[str, Any]:
    uri, workdir = neo4j.uri, neo4j.workdir
    if IMPORT_SEED:
        asyncio.run(seed_graph(uri, IMPORT_SEED))
    rounds: list[dict[str, Any]] = []
    # Round -1 warms up (plans both sides' statements, not counted): without it the first round paid for
    # both sides' planning on a nearly empty graph and its ratio said nothing about either side's speed.
    for round_ in range(-1, IMPORT_ROUNDS):
        took: dict[str, dict[str, Any]] = {}
        for side in ("import", "http") if round_ % 2 == 0 else ("http", "import"):
            replans_before = neo4j.replans()
            source_id = f"paths-{side}-{round_}-{uuid.uuid4().hex[:6]}"
            ensure_source(server.url, ADMIN, source_id, f"{side} round {round_}")
            visitors = [Visitor(100) for _ in range(IMPORT_LINES)]
            lines = [track_body(source_id, v, v.visit()) for v in visitors]
            if side == "import":
                path = workdir / f"import-{round_}.ndjson"
                path.write_bytes(b"\n".join(lines) + b"\n")
                env = api_env(uri, workdir / "api", ADMIN)
                started = time.perf_counter()
                run = subprocess.run(
                    [sys.executable, "-m", "app.cli", "import", str(path), "--source", source_id, "--quiet"],
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=600,
                )
                elapsed = time.perf_counter() - started
                if run.returncode != 0:
                    raise RuntimeError(f"idgraph import failed ({run.returncode}): {run.stderr[-800:]}")
                # The importer's own time (its report: from the first line read to the last written),
                # without the command's start-up; the whole command's time is kept beside it.
                report = msgspec.json.decode(run.stdout.strip().splitlines()[-1])
                whole, elapsed = elapsed, float(report["seconds"])
            else:

                async def post_all(queue: list[bytes]) -> None:
                    async def client() -> None:
                        connection = KeepAliveConnection(HOST, server.port)
                        try:
                            while queue:
                                status, _ = await connection.post("/track", queue.pop())
                                if status != 200:
                                    raise RuntimeError(f"/track answered {status}")
                        finally:
                            await connection.close()

                    await asyncio.gather(*(client() for _ in range(CONCURRENCY)))

                started = time.perf_counter()
                asyncio.run(post_all(list(lines)))
                elapsed = time.perf_counter() - started
            stored = stored_events(uri, source_id)
            took[side] = {
                "events": stored,
                "seconds": round(elapsed, 2),
                "events_per_s": stored / elapsed,
                **({"whole_command_seconds": round(whole, 2)} if side == "import" else {}),
                # Statements Neo4j planned again meanwhile (bench/_common.py, LocalRun.replans).
                "replans": neo4j.replans_since(replans_before),
            }
        ratio = took["import"]["events_per_s"] / took["http"]["events_per_s"]
        whole_ratio = (
            took["import"]["events"] / took["import"]["whole_command_seconds"] / took["http"]["events_per_s"]
        )
        result = {
            "round": round_,
            **took,
            "ratio": round(ratio, 3),
            "whole_command_ratio": round(whole_ratio, 3),
        }
        print(f"import vs http, round {round_}: {result}", file=sys.stderr, flush=True)
        if round_ >= 0:
            rounds.append(result)
    return {
        "rounds": rounds,
        "lines_per_side": IMPORT_LINES,
        "warm_up_rounds": 1,
        "seed_visitors": IMPORT_SEED,
        **round_spread("import_vs_http_batch100", [r["ratio"] for r in rounds]),
        **round_spread("import_vs_http_batch100_whole_command", [r["whole_command_ratio"] for r in rounds]),
        **round_spread("import_events_per_s", [r["import"]["events_per_s"] for r in rounds], 1),
        **round_spread("http_batch100_events_per_s", [r["http"]["events_per_s"] for r in rounds], 1),
    }


async def segment_vs_track(server: ApiServer) -> dict[str, Any]:
    source_id = f"paths-segment-{uuid.uuid4().hex[:6]}"
    ensure_source(server.url, ADMIN, source_id, "segment vs track")
    auth = segment_auth(source_id)
    kinds: dict[str, tuple[str, Callable[[], bytes], str]] = {
        "track": ("/track", track_once(source_id), ""),
        "segment_many_users": ("/v1/batch", segment_many_users, auth),
        "segment_one_user": ("/v1/batch", segment_one_user, auth),
    }
    for path, body, headers in kinds.values():  # warm-up
        await load(server, path, body, 100, 3.0, headers)
    rounds: list[dict[str, Any]] = []
    order = list(kinds)
    for round_ in range(ROUNDS):
        row: dict[str, Any] = {"round": round_}
        for kind in order[round_ % 3 :] + order[: round_ % 3]:
            path, body, headers = kinds[kind]
            row[kind] = await load(server, path, body, 100, SEGMENT_SECONDS, headers)
        rounds.append(row)
        print(f"segment vs track, round {round_}: {row}", file=sys.stderr, flush=True)

    def ratio(kind: str) -> list[float]:
        return [
            r[kind]["events_per_s"] / r["track"]["events_per_s"] for r in rounds if r["track"]["events_per_s"]
        ]

    return {
        "rounds": rounds,
        **round_spread("segment_batch100_vs_track_batch100", ratio("segment_many_users")),
        **round_spread("segment_one_user_batch100_vs_track_batch100", ratio("segment_one_user")),
        **{
            f"{kind}_events_per_s": statistics.median(r[kind]["events_per_s"] for r in rounds)
            for kind in kinds
        },
        **{
            f"{kind}_api_cpu_ms_per_event": statistics.median(
                r[kind]["api_cpu_ms_per_event"] or 0.0 for r in rounds
            )
            for kind in kinds
        },
        "errors": {kind: sum(r[kind]["errors"] for r in rounds) for kind in kinds},
    }


async def raw_identities_vs_events(uri: str) -> dict[str, Any]:
    """The floor of `segment_batch100_vs_track_batch100`, with no API: the hand-written /track statement
    (bench/ingest_cypher/raw_track.cypher) for 100 new visitors of one event each in one statement (its
    many-rounds form, app/store/many_rounds.py, as the API writes a Segment batch of 100 users) over the
    same statement for one new visitor's 100 events, in events/s, CONCURRENCY clients each. A new Segment
    user is more work than a new visitor (three aliases, not one), so the API's ratio cannot beat this one
    by writing the same graph the same way: 100 identities are 100 profiles, id handles, memberships, feed
    entries and folds, where 100 events of one visitor are one of each."""
    raw, client = RAW[RAW_STATEMENT], loopback_client()
    raw_many = many_rounds(raw)

    def hundred_visitors() -> dict[str, Any]:
        rounds = []
        for i in range(100):
            visitor = Visitor(1)
            rounds.append(raw_params("paths", visitor, visitor.visit(), client) | {"round_index": i})
        return {"rounds": rounds}

    def one_visitor() -> dict[str, Any]:
        visitor = Visitor(100)
        return raw_params("paths", visitor, visitor.visit(), client)

    sides: dict[str, tuple[str, Callable[[], dict[str, Any]]]] = {
        "identities": (raw_many, hundred_visitors),
        "events": (raw, one_visitor),
    }
    async with connect(uri) as graph:

        async def run(side: str, seconds: float) -> float:
            statement, params = sides[side]

            async def call() -> bool:
                await graph.driver.execute_query(statement, params(), database_=graph.database)
                return True

            done, elapsed = await drive(call, CONCURRENCY, seconds)
            return 100 * done / elapsed

        for side in sides:  # warm-up
            await run(side, 3.0)
        ratios = []
        for round_ in range(ROUNDS):
            order = list(sides) if round_ % 2 == 0 else list(reversed(sides))
            rate = {side: await run(side, SEGMENT_SECONDS) for side in order}
            ratios.append(rate["identities"] / rate["events"])
    return round_spread("raw_100_identities_vs_100_events", ratios)


def first_request_once(dialect: str) -> dict[str, float]:
    """One fresh Neo4j and one fresh API: the first request of `dialect` after /health says ok, the second,
    and the p50 of the FIRST_REQUESTS after it (the same request with new ids)."""
    with (
        local_neo4j(f"idgraph-first-{dialect}-", heap="512m", page_cache="128m") as neo4j,
        api_server(neo4j.uri, neo4j.workdir) as server,
    ):
        source_id = f"paths-first-{uuid.uuid4().hex[:6]}"
        ensure_source(server.url, ADMIN, source_id, f"first {dialect}")
        timings: list[float] = []
        with httpx.Client(base_url=server.url, timeout=120) as client:
            for _ in range(FIRST_REQUESTS + 1):
                path, body, extra = first_request(dialect, source_id)
                headers = {"content-type": "application/json"}
                for line in extra.strip().splitlines():
                    name, _, value = line.partition(":")
                    headers[name] = value.strip()
                started = time.perf_counter()
                response = client.post(path, content=body, headers=headers)
                timings.append((time.perf_counter() - started) * 1000)
                if response.status_code != 200:
                    raise RuntimeError(f"{dialect} {path} -> {response.status_code} {response.text[:300]}")
        p50 = percentile(timings[1:], 0.5)
        return {
            "first_ms": round(timings[0], 1),
            "second_ms": round(timings[1], 1),
            "steady_p50_ms": round(p50, 1),
            "ratio": round(timings[0] / p50, 2),
            "ready_s": round(server.ready_s or 0.0, 1),
        }


def first_requests() -> dict[str, Any]:
    """FIRST_STARTS fresh starts per dialect, the dialects interleaved (a, b, ..., a, b, ...) so drift of the
    machine falls on all of them; a dialect's figure is the median of its starts' ratios, the headline the
    worst dialect's, its spread the [min, max] over every start of every dialect (one start alone swung
    from 1.45 to 4.25 between two runs of the same code)."""
    starts: dict[str, list[dict[str, float]]] = {dialect: [] for dialect in DIALECTS}
    for _ in range(FIRST_STARTS):
        for dialect in DIALECTS:
            starts[dialect].append(first_request_once(dialect))
            print(f"first request {dialect}: {starts[dialect][-1]}", file=sys.stderr, flush=True)
    ratios = {d: round(statistics.median(s["ratio"] for s in runs), 2) for d, runs in starts.items()}
    out = {
        dialect: {
            "ratio": ratios[dialect],
            "first_ms_median": round(statistics.median(s["first_ms"] for s in runs), 1),
            "steady_p50_ms_median": round(statistics.median(s["steady_p50_ms"] for s in runs), 1),
            "starts": runs,
        }
        for dialect, runs in starts.items()
    }
    every = [s["ratio"] for runs in starts.values() for s in runs]
    return {
        "by_dialect": out,
        "starts_per_dialect": FIRST_STARTS,
        "first_request_vs_p50": max(ratios.values()),
        "first_request_vs_p50_spread": [min(every), max(every)],
    }


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--out", type=Path, default=RESULTS / "ingest_paths.json")
    parser.add_argument(
        "--only", nargs="+", choices=["import", "segment", "first"], default=["import", "segment", "first"]
    )
    args = parser.parse_args()
    started = time.perf_counter()
    result: dict[str, Any] = {}
    if "import" in args.only or "segment" in args.only:
        with (
            local_neo4j("idgraph-paths-", heap="1g", page_cache="256m") as neo4j,
            api_server(neo4j.uri, neo4j.workdir) as server,
        ):
            if "segment" in args.only:
                result["segment"] = asyncio.run(segment_vs_track(server))
                result["segment"] |= asyncio.run(raw_identities_vs_events(neo4j.uri))
            if "import" in args.only:
                result["import"] = import_vs_http(neo4j, server)
    if "first" in args.only:
        result["first_request"] = first_requests()
    headline = {
        key: part[key]
        for part in result.values()
        for key in part
        if key.endswith(("_vs_http_batch100", "_vs_track_batch100", "_vs_p50", "_vs_100_events"))
        or key.endswith(("_batch100_spread", "_p50_spread", "_vs_100_events_spread"))
    }
    out = {
        **headline,
        **result,
        "rounds": ROUNDS,
        "concurrency": CONCURRENCY,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "note": "shared machine"},
        "seconds": round(time.perf_counter() - started, 1),
    }
    write_result(args.out, out, *headline)


if __name__ == "__main__":
    main()
