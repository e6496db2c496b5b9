"""Memory soak: the API under steady /track load for a bounded time, its RSS sampled every 10 s.

    make soak                                       # 10 minutes, writes bench/results/soak.json
    .venv/bin/python bench/soak.py --minutes 1      # a smoke run

The same setup as bench/ingest.py (embedded Neo4j, the API under uvicorn in its own process, new visitors
with 10 page views each, 4 concurrent clients). After a 30 s warm-up the RSS of the API process is read
every 10 s. `growth_mb` compares the median of the last three samples with the median of the first three;
`slope_mb_per_min` is a least-squares fit over all samples. `leak_suspected` is true when the RSS grew by
more than 10% and more than 20 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from ingest import ADMIN, SOURCE, ApiServer, Workload, drive, rss_mb  # noqa: E402

from app import neo4j_local  # noqa: E402

SAMPLE_EVERY = 10.0


async def soak(
    server: ApiServer, minutes: float, concurrency: int, batch: int, warmup: float
) -> dict[str, Any]:
    work = Workload(batch)
    errors = 0
    async with httpx.AsyncClient(
        base_url=server.url, headers={"content-type": "application/json"}, timeout=60
    ) as c:

        async def call() -> None:
            nonlocal errors
            response = await c.post("/track", content=work.track_body(work.visit()))
            errors += response.status_code != 200

        await drive(call, concurrency, warmup)
        samples: list[tuple[float, float]] = []
        started = time.perf_counter()

        async def sample() -> None:
            while True:
                samples.append((round(time.perf_counter() - started, 1), round(rss_mb(server.pid), 1)))
                await asyncio.sleep(SAMPLE_EVERY)

        sampler = asyncio.create_task(sample())
        requests, elapsed = await drive(call, concurrency, minutes * 60)
        sampler.cancel()
    samples.append((round(time.perf_counter() - started, 1), round(rss_mb(server.pid), 1)))
    rss = [r for _, r in samples]
    start, end = statistics.median(rss[:3]), statistics.median(rss[-3:])
    slope = statistics.linear_regression([t for t, _ in samples], rss).slope * 60 if len(samples) > 1 else 0.0
    growth = end - start
    return {
        "minutes": minutes,
        "requests": requests,
        "errors": errors,
        "events_per_s": round(requests * batch / elapsed, 1),
        "rss_start_mb": start,
        "rss_end_mb": end,
        "rss_max_mb": max(rss),
        "growth_mb": round(growth, 1),
        "growth_pct": round(100 * growth / start, 1) if start else None,
        "slope_mb_per_min": round(slope, 2),
        "leak_suspected": growth > 20 and growth > 0.1 * start,
        "samples": samples,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--warmup", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "soak.json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="idgraph-soak-") as tmp:
        neo4j = neo4j_local.start(Path(tmp) / "neo4j", heap="1g", page_cache="256m")
        try:
            server = ApiServer(neo4j.uri, Path(tmp) / "api")
            try:
                httpx.post(
                    f"{server.url}/sources",
                    json={"id": SOURCE, "name": "soak"},
                    headers={"Authorization": f"Bearer {ADMIN}"},
                ).raise_for_status()
                result = asyncio.run(soak(server, args.minutes, args.concurrency, args.batch, args.warmup))
            finally:
                server.stop()
        finally:
            neo4j.stop()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}))


if __name__ == "__main__":
    main()
