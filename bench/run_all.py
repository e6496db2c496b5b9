"""`make bench`: every benchmark in one run, then bench/results/summary.json and summary.md.

    .venv/bin/python -m bench.run_all                 # runs identity, traits, quality, ingest (~13 min)
    .venv/bin/python -m bench.run_all --summarise     # only rebuild the summary from the result files

Each benchmark runs as a process of its own (`python -m bench.<name>` from the repository root), starts its
own embedded Neo4j and measures against a baseline in the same run (a bare Cypher statement through the same
driver); the summary leads with those ratios. Absolute figures are as measured on this machine (2 cores,
shared) and say little elsewhere.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from datetime import UTC, datetime

from bench._common import RESULTS, ROOT, arguments, write_result

SCRIPTS = ("identity", "traits", "quality", "ingest")


def run_scripts() -> dict[str, float]:
    took: dict[str, float] = {}
    for name in SCRIPTS:
        started = time.monotonic()
        print(f"== python -m bench.{name}", flush=True)
        subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT, check=True)
        took[name] = round(time.monotonic() - started, 1)
    return took


def load(name: str) -> dict:
    path = RESULTS / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else {}


def summarise(took: dict[str, float] | None) -> dict:
    identity, traits, quality, ingest = (load(n) for n in SCRIPTS)
    biggest = max(traits.get("results", []), key=lambda r: r["events"], default=None)
    summary = {
        "ingest_ratio_batch100": ingest.get("ingest_ratio_batch100"),
        "ingest_ratio_batch1": ingest.get("ingest_ratio_batch1"),
        "ingest_events_per_s_batch100": ingest.get("ingest_events_per_s_batch100"),
        "lookup_p50_ratio": identity.get("lookup_p50_ratio"),
        "lookup_p99_ratio": identity.get("lookup_p99_ratio"),
        "merge_cost_ratio_max": identity.get("merge_cost_ratio_max"),
        "merge_cost_ratio_max_of_minima": identity.get("merge", {}).get("merge_cost_ratio_max_of_minima"),
        "traits_ratio_100k_events": biggest["profile_over_bare_p50"] if biggest else None,
        "precision": quality.get("precision"),
        "recall": quality.get("recall"),
        "naive_precision": quality.get("naive_precision"),
        "naive_recall": quality.get("naive_recall"),
        "api_rss_mb": ingest.get("api_rss_mb"),
        "targets": {
            "ingest_ratio_batch100": ">= 0.75",
            "ingest_ratio_batch1": ">= 0.5",
            "lookup_p50_ratio": "<= 1.3",
            "lookup_p99_ratio": "<= 2",
            "merge_cost_ratio_max": "<= 2",
            "precision": ">= 0.99",
            "recall": ">= 0.98",
        },
        "summarised_at": datetime.now(UTC).isoformat(),
        "seconds_per_script": took,
        "machine": "2 cores shared with other work; absolute figures are this machine's",
    }
    return summary


def markdown(s: dict) -> str:
    def f(value: object, digits: int = 2) -> str:
        return f"{value:.{digits}f}" if isinstance(value, int | float) else "—"

    rows = [
        ("ingest ratio, batch 100 (HTTP / raw UNWIND)", f(s["ingest_ratio_batch100"]), ">= 0.75"),
        ("ingest ratio, batch 1", f(s["ingest_ratio_batch1"]), ">= 0.5"),
        (
            "alias lookup p50 ratio (API read / bare MATCH), worst of c=1, c=8",
            f(s["lookup_p50_ratio"]),
            "<= 1.3",
        ),
        ("alias lookup p99 ratio", f(s["lookup_p99_ratio"]), "<= 2"),
        ("merge cost, max/min p50 over big side 10 / 1k / 100k", f(s["merge_cost_ratio_max"]), "<= 2"),
        ("same, ratio of the minima", f(s["merge_cost_ratio_max_of_minima"]), "<= 2"),
        ("profile with traits / bare aggregation, 100k events", f(s["traits_ratio_100k_events"]), "—"),
        ("precision (defaults) / naive", f"{f(s['precision'], 3)} / {f(s['naive_precision'], 3)}", ">= 0.99"),
        ("recall (defaults) / naive", f"{f(s['recall'], 3)} / {f(s['naive_recall'], 3)}", ">= 0.98"),
        ("ingest events/s, batch 100 (measured here)", f(s["ingest_events_per_s_batch100"], 0), "—"),
        ("API RSS under load, MB (measured here)", f(s["api_rss_mb"], 0), "—"),
    ]
    lines = ["| figure | value | target |", "| --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--summarise", action="store_true", help="only rebuild the summary from result files")
    args = parser.parse_args()
    took = None if args.summarise else run_scripts()
    summary = summarise(took)
    write_result(RESULTS / "summary.json", summary)
    (RESULTS / "summary.md").write_text(markdown(summary))
    print(markdown(summary))


if __name__ == "__main__":
    main()
