"""Memory soak: the API under steady /track load for a bounded time, its RSS sampled every 10 s.

    make soak                                       # 10 minutes, writes bench/results/soak.json
    .venv/bin/python -m bench.soak --minutes 1      # a smoke run

The same setup as bench/ingest.py (embedded Neo4j, the API under uvicorn in its own process, new visitors
with 10 page views each, 4 concurrent clients). After a 30 s warm-up the RSS of the API process is read
every 10 s. `growth_mb` compares the median of the last three samples with the median of the first three;
`slope_mb_per_min` is a least-squares fit over all samples. `leak_suspected` is true when the RSS grew by
more than 10% and more than 20 MB.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import time
from pathlib import Path
from typing import Any

import httpx

from bench._common import RESULTS, ApiServer, arguments, ensure_source, local_neo4j, rss_mb, write_result
from bench.ingest import ADMIN, SOURCE, api_server, drive
from bench.raw_baseline import Visitor, track_body

SAMPLE_EVERY = 10.0


async def soak(
    server: ApiServer, minutes: float, concurrency: int, batch: int, warmup: float
) -> dict[str, Any]:
    errors = 0
    async with httpx.AsyncClient(
        base_url=server.url, headers={"content-type": "application/json"}, timeout=60
    ) as c:

        async def call() -> bool:
            nonlocal errors
            visitor = Visitor(batch)  # a new visitor each time
            response = await c.post("/track", content=track_body(SOURCE, visitor, visitor.visit()))
            errors += response.status_code != 200
            return response.status_code == 200

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
    parser = arguments(__doc__)
    parser.add_argument("--minutes", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--warmup", type=float, default=30.0)
    parser.add_argument("--out", type=Path, default=RESULTS / "soak.json")
    args = parser.parse_args()
    with (
        local_neo4j("idgraph-soak-", heap="1g", page_cache="256m") as neo4j,
        api_server(neo4j.uri, neo4j.workdir / "api") as server,
    ):
        ensure_source(server.url, ADMIN, SOURCE, "soak")
        result = asyncio.run(soak(server, args.minutes, args.concurrency, args.batch, args.warmup))
    write_result(args.out, result)
    print(json.dumps({k: v for k, v in result.items() if k != "samples"}))


if __name__ == "__main__":
    main()
