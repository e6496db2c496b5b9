"""Identity engine figures: merge cost against component size, and alias lookup against a bare indexed MATCH.

    .venv/bin/python -m bench.identity          # writes bench/results/identity.json

One local embedded Neo4j in a temporary directory. Components are seeded with UNWIND in the shape the
ingestion service writes (bench/identity_cypher/). Then, in one run:

- merge: a batch (a new session naming one alias of a 10-alias component and one of a big component) goes
  through `IngestionService.ingest` (`Services.bulk_ingestion`), the same code `/track` runs, for big sides of
  10, 1,000 and 100,000 aliases; each timed merge uses a fresh 10-alias component (union by size moves the
  small side);
- lookup: `ReadService.alias()` (what `GET /aliases/{urn}` runs) against `MATCH (a:Alias {urn: $u}) RETURN a`
  through the same driver (the app's, `create_driver`), alternating, at concurrency 1 and 8; p50 and p99 and
  their ratios.
"""

from __future__ import annotations

import asyncio
import platform
import random
import statistics
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from app.services.ingestion import IngestionService
from app.services.read import ReadService
from app.store.repository import GraphRepository
from bench._common import RESULTS, Graph, connect, local_neo4j, percentile, write_result
from graph_model.events import CanonicalEvent, IngestBatch
from graph_model.urn import parse_urn

BIG_SIZES = (10, 1_000, 100_000)
SMALL = 10
WARMUP_MERGES = 40
LOOKUP_ROUNDS = 8
MERGES_PER_SIZE = 11
ALIASES_PER_SESSION = 100
LOOKUPS = 4000  # per concurrency level; with 400, p99 was the 4th-slowest sample: one GC pause
CYPHER = "bench.identity_cypher"


async def seed(seeds: GraphRepository, n_aliases: int, tag: str) -> tuple[str, list[str]]:
    profile_id = str(uuid.uuid4())
    urns = [f"urn:device_id:{tag}-{i}" for i in range(n_aliases)]
    await seeds.write("seed_component", profile_id=profile_id)
    sessions = [
        {"id": f"{tag}-s{i}", "urns": urns[i : i + ALIASES_PER_SESSION]}
        for i in range(0, n_aliases, ALIASES_PER_SESSION)
    ]
    for start in range(0, len(sessions), 50):
        await seeds.write(
            "seed_session_aliases", profile_id=profile_id, sessions=sessions[start : start + 50]
        )
    return profile_id, urns


def link_batch(a: str, b: str) -> IngestBatch:
    now = datetime.now(UTC)
    return IngestBatch(
        source_id="bench",
        dialect="bench",
        session_id=f"link-{uuid.uuid4()}",
        aliases=[parse_urn(a), parse_urn(b)],
        events=[CanonicalEvent(type="link", time=now)],
        received_at=now,
    )


async def merges(seeds: GraphRepository, ingestion: IngestionService) -> dict[str, Any]:
    out: dict[str, Any] = {}
    # Warm Neo4j's JIT on the merge path first: measured cold, the first size (10) came out slowest, twice
    # the 100k side, which said nothing about how merge cost grows.
    for i in range(WARMUP_MERGES):
        _, left = await seed(seeds, SMALL, f"warm-a{i}-{uuid.uuid4().hex[:6]}")
        _, right = await seed(seeds, SMALL, f"warm-b{i}-{uuid.uuid4().hex[:6]}")
        await ingestion.ingest(link_batch(left[0], right[0]))
    # The sizes take turns, one merge each per round, so whatever drifts during the run (the JIT, the plan
    # cache, the machine's other work) falls on every size alike; measured one size after the other, the
    # first size came out slowest even after the warm-up, which said nothing about size.
    big_urns = {size: (await seed(seeds, size, f"big{size}-{uuid.uuid4().hex[:6]}"))[1] for size in BIG_SIZES}
    times: dict[int, list[float]] = {size: [] for size in BIG_SIZES}
    for i in range(MERGES_PER_SIZE + 1):
        for size in BIG_SIZES:
            _, small_urns = await seed(seeds, SMALL, f"small{size}-{i}-{uuid.uuid4().hex[:6]}")
            started = time.perf_counter()
            result = await ingestion.ingest(link_batch(small_urns[0], random.choice(big_urns[size])))
            elapsed = time.perf_counter() - started
            assert len(result.merges) == 1, result
            if i > 0:  # the first round warms the query plans
                times[size].append(elapsed * 1000)
    for size in BIG_SIZES:
        out[str(size)] = {
            "p50_ms": statistics.median(times[size]),
            "min_ms": min(times[size]),
            "max_ms": max(times[size]),
            "runs": len(times[size]),
        }
        print(f"merge 10 vs {size:>7}: p50 {out[str(size)]['p50_ms']:.1f} ms", flush=True)
    p50s = [v["p50_ms"] for v in out.values()]
    mins = [v["min_ms"] for v in out.values()]
    # p50 is the headline; the ratio of the minima shows the cost without the noise of a shared machine.
    return {
        "by_big_side": out,
        "merge_cost_ratio_max": max(p50s) / min(p50s),
        "merge_cost_ratio_max_of_minima": max(mins) / min(mins),
    }


async def lookups(graph: Graph, read: ReadService, urns: list[str], concurrency: int) -> dict[str, Any]:
    # The floor goes straight through the driver, not the repository (whose timing the app path pays).
    bare, driver, database = graph.statements(CYPHER).catalog["bare_lookup"], graph.driver, graph.database

    async def app_lookup(urn: str) -> None:
        assert await read.alias(urn) is not None

    async def bare_lookup(urn: str) -> None:
        records, _, _ = await driver.execute_query(bare, u=urn, database_=database, routing_="r")
        assert records

    timings: dict[str, list[float]] = {"app": [], "bare": []}
    sem = asyncio.Semaphore(concurrency)

    async def timed(kind: str, fn: Callable[[str], Awaitable[None]], urn: str) -> None:
        async with sem:
            started = time.perf_counter()
            await fn(urn)
            timings[kind].append((time.perf_counter() - started) * 1000)

    for _ in range(50):  # warm-up
        await app_lookup(random.choice(urns))
        await bare_lookup(random.choice(urns))
    for round_ in range(LOOKUP_ROUNDS):  # alternate so drift hits both
        for kind, fn in (("app", app_lookup), ("bare", bare_lookup))[:: 1 if round_ % 2 == 0 else -1]:
            await asyncio.gather(
                *(timed(kind, fn, random.choice(urns)) for _ in range(LOOKUPS // LOOKUP_ROUNDS))
            )
    res: dict[str, Any] = {}
    for kind, values in timings.items():
        res[kind] = {"p50_ms": percentile(values, 0.5), "p99_ms": percentile(values, 0.99), "n": len(values)}
    res["p50_ratio"] = res["app"]["p50_ms"] / res["bare"]["p50_ms"]
    res["p99_ratio"] = res["app"]["p99_ms"] / res["bare"]["p99_ms"]
    print(
        f"lookup c={concurrency}: p50 ratio {res['p50_ratio']:.2f}, p99 ratio {res['p99_ratio']:.2f}",
        flush=True,
    )
    return res


async def measure(uri: str) -> dict[str, Any]:
    async with connect(uri) as graph:
        await graph.services.store.bootstrap_schema()
        seeds = graph.statements(CYPHER)
        merge = await merges(seeds, graph.services.bulk_ingestion)
        _, urns = await seed(seeds, 5_000, f"lookup-{uuid.uuid4().hex[:6]}")
        lookup = {f"c{c}": await lookups(graph, graph.services.read, urns, c) for c in (1, 8)}
    return {
        "benchmark": "identity",
        "measured_at": datetime.now(UTC).isoformat(),
        "machine": {"cores": 2, "python": platform.python_version(), "note": "shared 2-core machine"},
        "merge": merge,
        "lookup": lookup,
        "merge_cost_ratio_max": merge["merge_cost_ratio_max"],
        "lookup_p50_ratio": max(v["p50_ratio"] for v in lookup.values()),
        "lookup_p99_ratio": max(v["p99_ratio"] for v in lookup.values()),
    }


def main() -> None:
    random.seed(7)
    with local_neo4j("idgraph-bench-identity-", heap="2g", page_cache="512m") as neo4j:
        results = asyncio.run(measure(neo4j.uri))
    out = write_result(RESULTS / "identity.json", results)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
