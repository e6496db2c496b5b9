"""Reading big profiles: `GET /profiles/{id}` from the stored traits fold, against a bare indexed lookup.

    .venv/bin/python -m bench.traits            # writes bench/results/traits.json
    .venv/bin/python -m bench.traits --sizes 100,10000   # a smaller run while developing

One local embedded Neo4j (heap 2g, page cache 512m) in a temporary directory. Three profiles of 100, 10,000
and 100,000 events are seeded with UNWIND in the shape the app writes (a Profile, its ProfileId handle,
Sessions that BELONG_TO it, Events BOUND_TO the sessions with the flat enrichment properties, trait inputs on
identify events; bench/traits_cypher/), and their traits folds built by the recompute `idgraph traits
rebuild` runs. The API runs in a process of its own; for each profile, one call of each per round, round
after round (alternating, so drift on the shared machine hits them alike):

- `profile`: `GET /profiles/{id}` over HTTP, traits from the stored fold;
- `bare_lookup`: `MATCH (p:Profile {id: $id}) RETURN p` through the driver, the floor of any profile read;
- `events_page_50`: the first page (50) of `GET /profiles/{id}/events` over HTTP;
- `profile_in_process`: `ReadService.profile()` in this process (the same read without HTTP);
- `profile_fresh`: `GET /profiles/{id}?fresh=true`, the traversal that defines the traits;
- `bare_aggregation`: `MATCH (p)<-[:BELONGS_TO]-()<-[:BOUND_TO]-(e) RETURN count(e), min(e.time),
  max(e.time)`, the floor of any traversal.

Then the write cost of the fold (ingestion with and without its step, alternating, in process) and
`idgraph traits verify` over the whole population. p50 (and min, max) after warm-up rounds. The machine is
shared: read the ratios more than the absolute numbers.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any, LiteralString, cast

import httpx
import msgspec

from app import neo4j_local
from app.services.ingestion import IngestionService
from app.store.catalog import QueryCatalog
from app.store.repository import GraphRepository
from bench._common import RESULTS, ROOT, ApiServer, api_env, arguments, connect, local_neo4j, write_result
from graph_model.enrichment import ClientInfo, event_fields
from graph_model.events import CanonicalEvent, IngestBatch

SIZES: tuple[int, ...] = (100, 10_000, 100_000)
EVENTS_PER_SESSION = 20
CHUNK = 5_000
RUNS = {100: 25, 10_000: 15, 100_000: 9}
WARMUP = 2
WRITE_RUNS = 120
ADMIN_TOKEN = "bench-traits-admin-token"
SOURCE = "bench"
CYPHER = "bench.traits_cypher"
_json = msgspec.json.Encoder()

USER_AGENTS = [
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Mobile Safari/537.36",
]
PAGES = [
    "https://shop.example/",
    "https://shop.example/kettles",
    "https://shop.example/?utm_source=google&utm_medium=cpc&utm_campaign=spring",
    "https://shop.example/?utm_source=newsletter&utm_medium=email&utm_content=a",
]
CLIENT = ClientInfo(ip="203.0.113.0/24")


def make_profile(size: int, rng: random.Random) -> tuple[str, list[dict[str, Any]], list[dict[str, Any]]]:
    """(profile id, sessions, events) in the app's shape; enrichment by the app's own function."""
    profile_id = str(uuid.uuid4())
    start = datetime(2024, 1, 1, tzinfo=UTC)
    n_sessions = max(1, size // EVENTS_PER_SESSION)
    sessions: list[dict[str, Any]] = []
    for i in range(n_sessions):
        t = start + timedelta(hours=i)
        sessions.append({"id": str(uuid.uuid4()), "created_at": t, "first_seen": t, "last_seen": t})
    enriched_templates = [
        event_fields({}, {"page": {"url": url}, "userAgent": ua}, CLIENT)
        for url in PAGES
        for ua in USER_AGENTS
    ]
    events = []
    for j in range(size):
        session = sessions[j * n_sessions // size]
        t = session["created_at"] + timedelta(seconds=rng.randrange(3600))
        kind = rng.choices(["page-view", "identify", "purchase", "add-to-cart"], [80, 2, 6, 12])[0]
        traits: dict[str, Any] = (
            {"first_name": rng.choice(["Ann", "Annie"]), "plan": rng.choice(["free", "gold"]), "visits": j}
            if kind == "identify"
            else {}
        )
        event_id = str(uuid.uuid4())
        template = rng.choice(enriched_templates)
        events.append(
            {
                "id": event_id,
                "key": f"{SOURCE}|id|{event_id}",
                "request_id": event_id,
                "session_id": session["id"],
                "type": kind,
                "time": t,
                "properties_json": _json.encode({"value": j % 97}).decode(),
                "context_json": _json.encode({"page": {"url": template["page_url"]}}).decode(),
                "trait_keys": list(traits),
                "trait_values": [_json.encode(v).decode() for v in traits.values()],
                "enriched": template if kind == "page-view" else {**template, "page_url": None},
            }
        )
    return profile_id, sessions, events


async def seed(seeds: GraphRepository, size: int, rng: random.Random) -> str:
    profile_id, sessions, events = make_profile(size, rng)
    now = datetime.now(UTC)
    await seeds.write("seed_profile", profile_id=profile_id, sessions=sessions, source_id=SOURCE, now=now)
    for i in range(0, len(events), CHUNK):
        await seeds.write("seed_events", events=events[i : i + CHUNK], source_id=SOURCE)
    return profile_id


def _stats(samples: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "min_ms": round(min(samples), 2),
        "max_ms": round(max(samples), 2),
        "runs": len(samples),
    }


async def alternating(fns: dict[str, Callable[[], Awaitable[Any]]], runs: int) -> dict[str, dict[str, float]]:
    """Each function once per round, round after round (warm-up rounds first), so drift on the shared machine
    hits them alike; p50, min and max of each."""
    for _ in range(WARMUP):
        for fn in fns.values():
            await fn()
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(runs):
        for name, fn in fns.items():
            t = time.perf_counter()
            await fn()
            samples[name].append((time.perf_counter() - t) * 1000)
    return {name: _stats(values) for name, values in samples.items()}


def _without_fold_step(store: GraphRepository) -> GraphRepository:
    """The app's statements with ingest_round's step 7 (the traits fold) cut out: the B side of the
    write-cost comparison."""
    text = resources.files("cypher").joinpath("ingest_round.cypher").read_text(encoding="utf-8")
    start, end = text.index("// step 7 (traits fold)"), text.index("// The state read (step 4)")
    statements = QueryCatalog()
    statements._texts["ingest_round"] = cast(LiteralString, text[:start] + text[end:])
    return GraphRepository(store._driver, statements, store._db)


def _batch(size: int, session_id: str) -> IngestBatch:
    now = datetime.now(UTC)
    return IngestBatch(
        source_id=SOURCE,
        dialect="bench",
        session_id=session_id,
        events=[
            CanonicalEvent(
                type="page-view",
                time=now - timedelta(seconds=i),
                external_id=str(uuid.uuid4()),
                context={"page": {"url": PAGES[i % len(PAGES)]}, "userAgent": USER_AGENTS[i % 3]},
                trait_inputs={"plan": "gold"} if i % 10 == 0 else {},
            )
            for i in range(size)
        ],
        received_at=now,
    )


async def write_cost(graph: Any) -> dict[str, Any]:
    """The traits fold's cost on the write path: ingestion with and without its fold step, alternating, in
    process (no HTTP), batches of 1 and of 100 events, each in a session of its own (a new visitor)."""
    settings = graph.settings
    with_fold = graph.services.bulk_ingestion
    without = IngestionService(
        _without_fold_step(graph.services.store),
        settings.identity_rules,
        max_future_skew=settings.max_future_skew,
    )
    out: dict[str, Any] = {"no_fold_profiles": []}
    for size, runs in ((1, WRITE_RUNS), (100, WRITE_RUNS // 4)):

        async def a(n: int = size) -> Any:
            return await with_fold.ingest(_batch(n, str(uuid.uuid4())))

        async def b(n: int = size) -> Any:
            result = await without.ingest(_batch(n, str(uuid.uuid4())))
            out["no_fold_profiles"].append(result.profile_id)
            return result

        timing = await alternating({"with_fold": a, "without_fold": b}, runs)
        out[f"batch{size}"] = timing | {
            "with_over_without_p50": round(
                timing["with_fold"]["p50_ms"] / max(timing["without_fold"]["p50_ms"], 1e-6), 3
            )
        }
    return out


def verify_population(uri: str, workdir: Path) -> dict[str, Any]:
    """`idgraph traits verify` over every profile of the bench population, as an operator runs it."""
    (workdir / "verify").mkdir(exist_ok=True)
    env = api_env(uri, workdir / "verify", ADMIN_TOKEN)
    t = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "traits", "verify"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    line = next((ln for ln in done.stderr.splitlines() if "profiles checked" in ln), "")
    words = line.split()
    return {
        "exit_code": done.returncode,
        "profiles": int(words[0]) if words else None,
        "differences": int(words[3]) if len(words) > 3 else None,
        "seconds": round(time.perf_counter() - t, 1),
        "output": line or done.stderr[-500:],
    }


async def bench(uri: str, workdir: Path) -> dict[str, Any]:
    async with connect(uri) as graph:
        await graph.services.store.bootstrap_schema()
        seeds = graph.statements(CYPHER)
        # The baselines go straight through the driver, not the repository (whose timing the app path pays).
        bare_aggregation, driver, database = seeds.catalog["bare_aggregation"], graph.driver, graph.database
        bare_lookup = seeds.catalog["bare_lookup"]
        rng = random.Random(20250301)
        profiles: dict[int, tuple[str, float, float]] = {}
        for size in SIZES:
            t = time.perf_counter()
            profile_id = await seed(seeds, size, rng)
            seed_s = time.perf_counter() - t
            # Seeded with Cypher, past ingestion: the fold is built by its recompute (`traits rebuild`).
            t = time.perf_counter()
            await graph.services.traits.rebuild([profile_id])
            profiles[size] = (profile_id, round(seed_s, 1), round(time.perf_counter() - t, 1))
        (workdir / "api").mkdir(exist_ok=True)
        env = api_env(uri, workdir / "api", ADMIN_TOKEN, IDGRAPH_PURGE_INTERVAL_SECONDS="0")
        results = []
        api = ApiServer(env, log=workdir / "api.log")
        try:
            api.wait_ready(timeout=300)  # a cold Neo4j plans the warm-up's statements first
            headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
            async with httpx.AsyncClient(base_url=api.url, headers=headers, timeout=60) as http:
                for size in SIZES:
                    profile_id, seed_s, fold_s = profiles[size]
                    doc = (await http.get(f"/profiles/{profile_id}")).json()
                    fresh_doc = (await http.get(f"/profiles/{profile_id}", params={"fresh": "true"})).json()
                    assert doc["event_count"] == size and doc == fresh_doc, (size, doc, fresh_doc)

                    async def profile(pid: str = profile_id) -> Any:
                        r = await http.get(f"/profiles/{pid}")
                        assert r.status_code == 200
                        return r

                    async def fresh(pid: str = profile_id) -> Any:
                        r = await http.get(f"/profiles/{pid}", params={"fresh": "true"})
                        assert r.status_code == 200
                        return r

                    async def lookup(pid: str = profile_id) -> Any:
                        records, _, _ = await driver.execute_query(
                            bare_lookup, profile_id=pid, database_=database, routing_="r"
                        )
                        return records

                    async def aggregation(pid: str = profile_id) -> Any:
                        records, _, _ = await driver.execute_query(
                            bare_aggregation, profile_id=pid, database_=database, routing_="r"
                        )
                        return records

                    async def first_page(pid: str = profile_id) -> Any:
                        r = await http.get(f"/profiles/{pid}/events", params={"limit": 50})
                        assert r.status_code == 200
                        return r

                    async def in_process(pid: str = profile_id) -> Any:
                        return await graph.services.read.profile(pid)

                    timing = await alternating(
                        {
                            "profile": profile,
                            "bare_lookup": lookup,
                            "events_page_50": first_page,
                            "profile_in_process": in_process,
                            "profile_fresh": fresh,
                            "bare_aggregation": aggregation,
                        },
                        RUNS.get(size, 9),
                    )
                    p50 = {name: v["p50_ms"] for name, v in timing.items()}
                    row = {
                        "events": size,
                        "sessions": doc["session_count"],
                        "seed_seconds": seed_s,
                        "fold_rebuild_seconds": fold_s,
                        **timing,
                        "profile_over_bare_lookup_p50": _ratio(p50["profile"], p50["bare_lookup"]),
                        "profile_in_process_over_bare_lookup_p50": _ratio(
                            p50["profile_in_process"], p50["bare_lookup"]
                        ),
                        "fresh_over_bare_aggregation_p50": _ratio(
                            p50["profile_fresh"], p50["bare_aggregation"]
                        ),
                    }
                    print(json.dumps(row), flush=True)
                    results.append(row)
        finally:
            api.stop()
        cost = await write_cost(graph)
        print(json.dumps({"write_cost": cost}), flush=True)
        # The B side wrote no folds, on purpose: those profiles get theirs from the recompute, so that
        # `traits verify` below checks the whole population (the A side's folds as ingestion kept them).
        await graph.services.traits.rebuild(cost.pop("no_fold_profiles"))
    by_size = {r["events"]: r for r in results}
    small, big = by_size[min(SIZES)], by_size[max(SIZES)]
    return {
        "results": results,
        "write_cost": cost,
        "profile_read_ratio_100k_vs_100": round(small_ratio(big, small, "profile"), 2),
        "profile_read_vs_bare_lookup": big["profile_over_bare_lookup_p50"],
        "profile_read_in_process_vs_bare_lookup": big["profile_in_process_over_bare_lookup_p50"],
        "events_page_ratio_100k_vs_100": round(small_ratio(big, small, "events_page_50"), 2),
        "ingest_fold_cost_ratio_batch1": cost["batch1"]["with_over_without_p50"],
        "ingest_fold_cost_ratio_batch100": cost["batch100"]["with_over_without_p50"],
    }


def _ratio(a: float, b: float) -> float:
    return round(a / max(b, 1e-6), 2)


def small_ratio(big: dict[str, Any], small: dict[str, Any], key: str) -> float:
    return float(big[key]["p50_ms"]) / max(float(small[key]["p50_ms"]), 1e-6)


def main() -> int:
    global SIZES
    parser = arguments(__doc__)
    parser.add_argument("--sizes", default=",".join(str(n) for n in SIZES), help="profile sizes (events)")
    args = parser.parse_args()
    SIZES = tuple(int(n) for n in args.sizes.split(","))
    started = time.perf_counter()
    with local_neo4j("idgraph-bench-traits-", heap="2g", page_cache="512m") as neo4j:
        out = asyncio.run(bench(neo4j.uri, neo4j.workdir))
        out["traits_verify"] = verify_population(neo4j.uri, neo4j.workdir)
    out["traits_verify_differences"] = out["traits_verify"]["differences"]
    print(json.dumps({"traits_verify": out["traits_verify"]}), flush=True)
    out |= {
        "what": "GET /profiles/{id} over HTTP (traits from the stored fold) vs a bare indexed profile lookup "
        "through the driver, alternating; ?fresh=true (the traversal) vs a bare count/min/max aggregation "
        "over it; first events page (50) over HTTP; ingestion with and without the fold step (in process); "
        "`idgraph traits verify` over the population",
        "neo4j": {"version": neo4j_local.NEO4J_VERSION, "heap": "2g", "page_cache": "512m"},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "total_seconds": round(time.perf_counter() - started, 1),
    }
    path = write_result(RESULTS / "traits.json", out)
    print(f"wrote {path.relative_to(ROOT)} in {out['total_seconds']} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
