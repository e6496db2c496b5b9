"""Traits of big profiles: `ReadService.profile()` against a bare Cypher aggregation over the same events.

    .venv/bin/python -m bench.traits            # writes bench/results/traits.json

One local embedded Neo4j (heap 2g, page cache 512m) in a temporary directory. Three profiles of 100, 10,000
and 100,000 events are seeded with UNWIND in the shape the app writes (a Profile, its ProfileId handle,
Sessions that BELONG_TO it, Events BOUND_TO the sessions with the flat enrichment properties, trait inputs on
identify events); the statements are in bench/traits_cypher/. Then, for each profile, alternating:

- `profile`: `ReadService.profile()`, the whole `GET /profiles/{id}` document (head + the traits traversal);
- `bare`: `MATCH (p)<-[:BELONGS_TO]-()<-[:BOUND_TO]-(e) RETURN count(e), min(e.time), max(e.time)`, the
  same traversal with the cheapest aggregation: the floor any traversal-based trait computation pays;
- `events_page`: the first page (50) of `GET /profiles/{id}/events`.

p50 (and min, max) over several runs after warm-up runs. The machine is shared: read the ratios more than the
absolute numbers.
"""

from __future__ import annotations

import asyncio
import json
import os
import platform
import random
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from app import neo4j_local
from app.store.repository import GraphRepository
from bench._common import RESULTS, ROOT, connect, local_neo4j, write_result
from graph_model.enrichment import ClientInfo, event_fields

SIZES = (100, 10_000, 100_000)
EVENTS_PER_SESSION = 20
CHUNK = 5_000
RUNS = {100: 15, 10_000: 9, 100_000: 5}
WARMUP = 2
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


async def timed(fn: Callable[[], Awaitable[Any]], runs: int) -> dict[str, float]:
    for _ in range(WARMUP):
        await fn()
    samples = []
    for _ in range(runs):
        t = time.perf_counter()
        await fn()
        samples.append((time.perf_counter() - t) * 1000)
    return {
        "p50_ms": round(statistics.median(samples), 2),
        "min_ms": round(min(samples), 2),
        "max_ms": round(max(samples), 2),
        "runs": runs,
    }


async def bench(uri: str) -> dict[str, Any]:
    async with connect(uri) as graph:
        await graph.services.store.bootstrap_schema()
        read = graph.services.read
        seeds = graph.statements(CYPHER)
        # The floor goes straight through the driver, not the repository (whose timing the app path pays).
        bare_aggregation, driver, database = seeds.catalog["bare_aggregation"], graph.driver, graph.database
        rng = random.Random(20250301)
        results = []
        for size in SIZES:
            t = time.perf_counter()
            profile_id = await seed(seeds, size, rng)
            seed_s = time.perf_counter() - t
            view = await read.profile(profile_id)
            assert view is not None and view.event_count == size, (size, view)

            async def profile(pid: str = profile_id) -> Any:
                return await read.profile(pid)

            async def bare(pid: str = profile_id) -> Any:
                records, _, _ = await driver.execute_query(
                    bare_aggregation, profile_id=pid, database_=database, routing_="r"
                )
                return records

            async def first_page(pid: str = profile_id) -> Any:
                return await read.events_page(pid, limit=50, cursor=None, event_type=None)

            runs = RUNS[size]
            # Alternate the measured functions so drift on the shared machine hits them alike.
            profile_t = await timed(profile, runs)
            bare_t = await timed(bare, runs)
            page_t = await timed(first_page, runs)
            row = {
                "events": size,
                "sessions": view.session_count,
                "seed_seconds": round(seed_s, 1),
                "profile": profile_t,
                "bare_aggregation": bare_t,
                "events_page_50": page_t,
                "profile_over_bare_p50": round(profile_t["p50_ms"] / max(bare_t["p50_ms"], 1e-6), 2),
            }
            print(json.dumps(row), flush=True)
            results.append(row)
    return {"results": results}


def main() -> int:
    started = time.perf_counter()
    with local_neo4j("idgraph-bench-traits-", heap="2g", page_cache="512m") as neo4j:
        out = asyncio.run(bench(neo4j.uri))
    out |= {
        "what": "ReadService.profile() (GET /profiles/{id}: head + traits traversal) vs a bare count/min/max "
        "aggregation over the same traversal; first events page (50)",
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
