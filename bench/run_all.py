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

SCRIPTS = ("identity", "traits", "quality", "ingest", "ingest_paths", "scaling")


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
    identity, traits, quality, ingest = (load(n) for n in ("identity", "traits", "quality", "ingest"))
    paths = load("ingest_paths")
    scaling = load("scaling")
    biggest = max(traits.get("results", []), key=lambda r: r["events"], default=None)
    summary = {
        "ingest_ratio_batch100": ingest.get("ingest_ratio_batch100"),
        "ingest_ratio_batch1": ingest.get("ingest_ratio_batch1"),
        "ingest_events_per_s_batch100": ingest.get("ingest_events_per_s_batch100"),
        # Each ratio measured in alternating rounds: the median round, and `<key>_spread` [min, max] of them.
        **spreads(ingest, "ingest_ratio_batch100", "ingest_ratio_batch1"),
        "api_cpu_ms_per_event_batch1": ingest.get("api_cpu_ms_per_event_batch1"),
        "api_cpu_ms_per_event_batch100": ingest.get("api_cpu_ms_per_event_batch100"),
        # Where the cores went on each side, ms of CPU per event: Neo4j's process and the API's (HTTP side)
        # or the bench's own driver (raw side); and the earlier visitors written before measuring.
        "ingest_cpu_ms_per_event": {
            f"batch{b}_{mode}_{proc}": ingest.get(f"cpu_ms_per_event_batch{b}_{mode}_{proc}")
            for b in (100, 1)
            for mode, proc in (("http", "neo4j"), ("http", "api"), ("raw", "neo4j"), ("raw", "bench_client"))
        },
        "ingest_seed_visitors": ingest.get("seed_visitors"),
        # Lookup over HTTP (GET /aliases/{urn}, auth, JSON) against the bare MATCH; in-process beside it.
        **spreads(identity, "lookup_http_p50_ratio", "lookup_http_p99_ratio"),
        **spreads(identity, "lookup_p50_ratio", "lookup_p99_ratio"),
        # The service's merge against the same merge written by hand, worst over the shapes.
        **spreads(identity, "merge_cost_ratio_max"),
        "merge_growth_ratio_max": identity.get("merge_growth_ratio_max"),
        **spreads(
            paths,
            "import_vs_http_batch100",
            "segment_batch100_vs_track_batch100",
            "segment_one_user_batch100_vs_track_batch100",
            "first_request_vs_p50",
        ),
        # The Segment ratio's floor with no API: the hand-written /track statement for 100 new visitors in
        # one statement over the same statement for one visitor's 100 events (bench/ingest_paths.py).
        **spreads(paths.get("segment", {}), "raw_100_identities_vs_100_events"),
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
        # Several API processes on one Neo4j (bench/scaling.py): events/s with 2 over 1, batch 1, and where
        # the CPU went (cores used by the API processes / Neo4j / the load generator) with 2.
        "ingest_scaling_2_workers": scaling.get("ingest_scaling_2_workers"),
        "ingest_scaling_2_workers_cpu": {
            k: scaling.get("batch1_2_processes", {}).get(k)
            for k in ("cores_api", "cores_neo4j", "cores_loadgen")
        },
        "targets": {
            "ingest_ratio_batch100": ">= 0.9",
            "ingest_ratio_batch1": ">= 0.8",
            "lookup_http_p50_ratio": "<= 1.5",
            "lookup_http_p99_ratio": "<= 2.5",
            "lookup_p50_ratio": "<= 1.3",
            "lookup_p99_ratio": "<= 2",
            "merge_cost_ratio_max": "<= 2",
            "import_vs_http_batch100": ">= 0.8",
            "segment_batch100_vs_track_batch100": ">= 0.5",
            "first_request_vs_p50": "<= 3",
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


def spreads(result: dict, *keys: str) -> dict:
    """`key` and `<key>_spread` of each of `keys` from a benchmark's result (None when it has none)."""
    return {
        k: v
        for key in keys
        for k, v in ((key, result.get(key)), (f"{key}_spread", result.get(f"{key}_spread")))
    }


def _causes(causes: dict[str, int] | None) -> str:
    if causes is None:
        return "—"
    return "; ".join(f"{cause}: {n}" for cause, n in causes.items()) or "none"


def _cpu(cores: dict[str, float | None] | None) -> str:
    if not cores:
        return "—"
    return " / ".join("—" if v is None else f"{v:.2f}" for v in cores.values())


def markdown(s: dict) -> str:
    def f(value: object, digits: int = 2) -> str:
        return f"{value:.{digits}f}" if isinstance(value, int | float) else "—"

    def g(key: str, digits: int = 2) -> str:
        """The median round and, when there is one, its spread [min, max]."""
        spread = s.get(f"{key}_spread")
        tail = f" [{f(spread[0], digits)}, {f(spread[1], digits)}]" if isinstance(spread, list) else ""
        return f(s.get(key), digits) + tail

    cpu = s.get("ingest_cpu_ms_per_event") or {}
    rows = [
        (
            "ingest ratio, batch 100 (HTTP / raw UNWIND, same delta) [spread]",
            g("ingest_ratio_batch100"),
            ">= 0.9",
        ),
        ("ingest ratio, batch 1", g("ingest_ratio_batch1"), ">= 0.8"),
        (
            "API CPU ms per event, batch 1 / batch 100",
            f"{f(s.get('api_cpu_ms_per_event_batch1'), 3)} / {f(s.get('api_cpu_ms_per_event_batch100'), 3)}",
            "—",
        ),
        (
            "Neo4j CPU ms per event, HTTP / raw side, batch 100 / batch 1",
            " / ".join(
                f"{f(cpu.get(f'batch{b}_http_neo4j'), 3)} / {f(cpu.get(f'batch{b}_raw_neo4j'), 3)}"
                for b in (100, 1)
            ),
            "—",
        ),
        (
            "alias lookup over HTTP, p50 ratio (GET /aliases / bare MATCH), worse of c=1, c=8",
            g("lookup_http_p50_ratio"),
            "<= 1.5",
        ),
        ("alias lookup over HTTP, p99 ratio", g("lookup_http_p99_ratio"), "<= 2.5"),
        (
            "alias lookup in-process, p50 / p99 ratio",
            f"{g('lookup_p50_ratio')} / {g('lookup_p99_ratio')}",
            "<= 1.3 / <= 2",
        ),
        ("merge cost (service / hand-written merge), worst shape", g("merge_cost_ratio_max"), "<= 2"),
        ("merge growth, max/min p50 over big side 10 / 1k / 100k", f(s.get("merge_growth_ratio_max")), "—"),
        ("idgraph import / HTTP /track batch 100, events/s", g("import_vs_http_batch100"), ">= 0.8"),
        (
            "Segment /v1/batch of 100 users / /track batch 100, events/s",
            g("segment_batch100_vs_track_batch100"),
            ">= 0.5",
        ),
        (
            "Segment /v1/batch of 100 messages of one user / /track batch 100",
            g("segment_one_user_batch100_vs_track_batch100"),
            "—",
        ),
        (
            "floor of the above without the API: raw statement, 100 new visitors / 1 visitor's 100 events",
            g("raw_100_identities_vs_100_events"),
            "—",
        ),
        ("first request after /health ok / steady p50, worst dialect", g("first_request_vs_p50"), "<= 3"),
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
        (
            "ingest events/s, 2 API processes over 1, batch 1 (cores: API / Neo4j / load generator)",
            f"{f(s.get('ingest_scaling_2_workers'))} ({_cpu(s.get('ingest_scaling_2_workers_cpu'))})",
            "—",
        ),
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
