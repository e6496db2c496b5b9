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
        # ?fresh=true (the traversal) over a bare aggregation over the same events, 100k events
        "traits_ratio_100k_events": biggest.get("fresh_over_bare_aggregation_p50") if biggest else None,
        # GET /profiles/{id} from the stored traits fold, and the first events page (bench/traits.py)
        "profile_read_ratio_100k_vs_100": traits.get("profile_read_ratio_100k_vs_100"),
        "profile_read_vs_bare_lookup": traits.get("profile_read_vs_bare_lookup"),
        "events_page_ratio_100k_vs_100": traits.get("events_page_ratio_100k_vs_100"),
        "traits_verify_differences": traits.get("traits_verify_differences"),
        "ingest_fold_cost_ratio_batch1": traits.get("ingest_fold_cost_ratio_batch1"),
        "ingest_fold_cost_ratio_batch100": traits.get("ingest_fold_cost_ratio_batch100"),
        # Resolution quality (bench/quality.py): identity rules v2 (the defaults), the v1 rules and the naive
        # "merge on any shared id" in the same run; recall counts the pairs a person's own evidence connects,
        # recall_all every pair of a person's aliases.
        "precision": quality.get("precision"),
        "recall": quality.get("recall"),
        "recall_all": quality.get("recall_all"),
        "recall_misses_by_cause": quality.get("recall_misses_by_cause"),
        "v1_precision": quality.get("v1_precision"),
        "v1_recall": quality.get("v1_recall"),
        "naive_precision": quality.get("naive_precision"),
        "naive_recall": quality.get("naive_recall"),
        "merge_everything_precision": quality.get("merge_everything_precision"),
        "api_rss_mb": ingest.get("api_rss_mb"),
        "targets": {
            "ingest_ratio_batch100": ">= 0.75",
            "ingest_ratio_batch1": ">= 0.5",
            "lookup_p50_ratio": "<= 1.3",
            "lookup_p99_ratio": "<= 2",
            "merge_cost_ratio_max": "<= 2",
            "precision": ">= 0.99",
            "recall": ">= 0.95",
            "profile_read_ratio_100k_vs_100": "<= 2",
            "profile_read_vs_bare_lookup": "<= 3",
            "events_page_ratio_100k_vs_100": "<= 2",
            "traits_verify_differences": "0",
        },
        "summarised_at": datetime.now(UTC).isoformat(),
        "seconds_per_script": took,
        "machine": "2 cores shared with other work; absolute figures are this machine's",
    }
    return summary


def _causes(causes: dict[str, int] | None) -> str:
    if causes is None:
        return "—"
    return "; ".join(f"{cause}: {n}" for cause, n in causes.items()) or "none"


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
        (
            "profile ?fresh=true (traversal) / bare aggregation, 100k events",
            f(s["traits_ratio_100k_events"]),
            "—",
        ),
        ("GET /profiles/{id} p50, 100k / 100 events", f(s.get("profile_read_ratio_100k_vs_100")), "<= 2"),
        (
            "GET /profiles/{id} / bare profile lookup, 100k events",
            f(s.get("profile_read_vs_bare_lookup")),
            "<= 3",
        ),
        ("first events page p50, 100k / 100 events", f(s.get("events_page_ratio_100k_vs_100")), "<= 2"),
        ("idgraph traits verify: profiles that differ", f(s.get("traits_verify_differences"), 0), "0"),
        (
            "precision: rules v2 (defaults) / v1 / naive / merge everything",
            " / ".join(
                f(s.get(k), 3)
                for k in ("precision", "v1_precision", "naive_precision", "merge_everything_precision")
            ),
            ">= 0.99 (v2)",
        ),
        (
            "recall, pairs a person's own evidence connects: v2 / v1 / naive",
            " / ".join(f(s.get(k), 3) for k in ("recall", "v1_recall", "naive_recall")),
            ">= 0.95 (v2)",
        ),
        ("recall over all pairs of a person's aliases (v2)", f(s.get("recall_all"), 3), "—"),
        ("v2 recall misses by cause (pairs)", _causes(s.get("recall_misses_by_cause")), "—"),
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
