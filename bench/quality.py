"""Resolution quality: pairwise precision and recall of idgraph's profiles against a synthetic ground truth.

    .venv/bin/python bench/quality.py [--persons 200] [--seed 7]    # ~4 min; bench/results/quality.json

1. `bench/population.py` generates the population (NDJSON of all five dialects, with noise) and its truth.
2. defaults: the lines go through `app.services.bulk_import.BulkImporter` (what `idgraph import` runs: the dialects'
   translators and the one `IngestionService`, 100 lines per transaction) with the default merge limits
   (customer_id=1, user_id=1) and the built-in blocked values.
3. naive: the database is emptied and the same lines are imported again with no merge limits and no blocked
   values at all (`graph_model.pii.DEFAULT_BLOCKED_VALUES` emptied in this process: "undefined", "null",
   "0" become aliases like any id), i.e. "merge anything that shares any identifier".

After each run the partition of aliases is read from Neo4j (alias -> profile). Pairwise scores are computed
over the aliases the truth gives one owner (shared devices, junk values and re-used tokens have none, so they
are not scored, but they still act on the merges): a pair of aliases is a true pair when one person owns
both, a predicted pair when one profile holds both. precision = |true & predicted| / |predicted|, recall =
|true & predicted| / |true|. False pairs are attributed to the noise that sits in the same profile.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from neo4j import AsyncDriver, AsyncGraphDatabase  # noqa: E402
from population import generate  # noqa: E402

import graph_model.pii as pii  # noqa: E402
from app import neo4j_local  # noqa: E402
from app.services.bulk_import import BulkImporter, Rejected, detect_dialect, translate  # noqa: E402
from app.store.driver import bootstrap_schema  # noqa: E402
from app.services.ingestion import IngestionService  # noqa: E402
from app.store.catalog import catalog  # noqa: E402
from app.store.repository import GraphRepository  # noqa: E402
from app.services.sources import SourceService  # noqa: E402

DB = "neo4j"
SOURCE = "bench-quality"
CYPHER = ROOT / "bench" / "quality_cypher"
DEFAULT_LIMITS = {"customer_id": 1, "user_id": 1}


def _q(name: str) -> Any:
    return (CYPHER / f"{name}.cypher").read_text()


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def linkable_components(lines: list[tuple[int, bytes]], line_person: list[str]) -> dict[str, str]:
    """For each alias, the component it falls in within its own person's evidence.

    A person's evidence links two aliases when they travel in one canonical batch or one session (what the
    ingestion service links), read with the same translators and the built-in blocked values. Two aliases
    of a person that no evidence of theirs connects cannot be linked by any rule; `recall` counts only the
    pairs their evidence connects (`recall_vs_person` counts all pairs of a person)."""
    parent: dict[str, str] = {}

    def find(x: str) -> str:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    now = datetime.now(UTC)
    for (_, text), person in zip(lines, line_person, strict=True):
        obj = json.loads(text)
        dialect = detect_dialect(obj)
        if dialect is None:
            continue
        try:
            batches = translate(
                obj, dialect, source_id=SOURCE, received_at=now, blocked=frozenset(), max_events=10**6
            )
        except Rejected:
            continue
        for batch in batches:
            nodes = [f"{person}|{a}" for a in batch.all_aliases()]
            if batch.session_id:
                nodes.append(f"{person}|session:{batch.session_id}")
            for node in nodes[1:]:
                parent[find(node)] = find(nodes[0])
    return {key.split("|", 1)[1]: find(key) for key in list(parent) if "|session:" not in key}


def score(
    partition: dict[str, str],
    truth: dict[str, str | None],
    noise: dict[str, list[str]],
    linkable: dict[str, str],
) -> dict[str, Any]:
    """Pairwise precision / recall of `partition` (urn -> profile) over the aliases with one true owner."""
    owned = {urn: person for urn, person in truth.items() if person}
    clusters: dict[str, list[str]] = defaultdict(list)
    link_clusters: dict[str, list[str]] = defaultdict(list)
    for urn, person in owned.items():
        # An owned alias the graph does not hold is a singleton (it links nothing).
        where = partition.get(urn, "missing:" + urn)
        clusters[where].append(person)
        link_clusters[where].append(linkable.get(urn, "alone:" + urn))
    by_person = Counter(owned.values())
    true_pairs = sum(_pairs(n) for n in by_person.values())
    linkable_pairs = sum(_pairs(n) for n in Counter(linkable.get(u, "alone:" + u) for u in owned).values())
    predicted = sum(_pairs(len(members)) for members in clusters.values())
    hits = sum(sum(_pairs(n) for n in Counter(members).values()) for members in clusters.values())
    linked_hits = sum(sum(_pairs(n) for n in Counter(members).values()) for members in link_clusters.values())
    # Which noise sits in the profiles that hold false pairs.
    kind_of = {urn: kind for kind, urns in noise.items() for urn in urns}
    noise_in: dict[str, set[str]] = defaultdict(set)
    for urn, profile in partition.items():
        if urn in kind_of:
            noise_in[profile].add(kind_of[urn])
    false_by_noise: Counter[str] = Counter()
    impure = 0
    for profile, members in clusters.items():
        false = _pairs(len(members)) - sum(_pairs(n) for n in Counter(members).values())
        if false:
            impure += 1
            kinds = noise_in.get(profile) or {"none"}
            for kind in kinds:
                false_by_noise[kind] += false
    return {
        "precision": round(hits / predicted, 5) if predicted else 1.0,
        "recall": round(linked_hits / linkable_pairs, 5) if linkable_pairs else 1.0,
        "recall_vs_person": round(hits / true_pairs, 5) if true_pairs else 1.0,
        "scored_aliases": len(owned),
        "true_pairs": true_pairs,
        "linkable_pairs": linkable_pairs,
        "predicted_pairs": predicted,
        "correct_pairs": hits,
        "profiles_with_strangers": impure,
        "false_pairs_by_noise_in_profile": dict(false_by_noise.most_common()),
        "split_persons": sum(
            1
            for person, _ in by_person.items()
            if len({partition.get(u) for u, p in owned.items() if p == person}) > 1
        ),
    }


async def _partition(driver: AsyncDriver) -> dict[str, str]:
    records, _, _ = await driver.execute_query(_q("alias_profiles"), database_=DB, routing_="r")
    return {r["urn"]: r["profile_id"] for r in records}


async def _wipe(driver: AsyncDriver) -> None:
    # CALL { } IN TRANSACTIONS needs an auto-commit transaction.
    async with driver.session(database=DB) as session:
        await (await session.run(_q("wipe"))).consume()


async def _run(
    driver: AsyncDriver, lines: list[tuple[int, bytes]], limits: dict[str, int], batch: int
) -> dict[str, Any]:
    await bootstrap_schema(driver, catalog(), DB)
    sources = SourceService(driver, catalog(), DB)
    if await sources.get(SOURCE) is None:
        await sources.create("quality bench", SOURCE)
    service = IngestionService(driver, GraphRepository(catalog()), DB, limits)
    rejects: list[tuple[int, str]] = []
    importer = BulkImporter(
        service, source_id=SOURCE, batch_size=batch, on_reject=lambda n, why, _: rejects.append((n, why))
    )
    started = time.perf_counter()
    await importer.run(lines)
    seconds = time.perf_counter() - started
    report = importer.report
    return {
        "lines": report.lines,
        "saved": report.saved,
        "duplicates": report.duplicates,
        "rejected": report.rejected,
        "rejects_sample": rejects[:5],
        "merges": report.merges,
        "refused": report.refused,
        "import_seconds": round(seconds, 1),
        "lines_per_s": round(report.lines / seconds, 1),
        "dialects": report.dialects,
    }


async def measure(uri: str, persons: int, seed: int, batch: int, workdir: Path) -> dict[str, Any]:
    truth = generate(persons, seed, workdir)
    data = (workdir / "events.ndjson").read_bytes().splitlines()
    lines = list(enumerate(data, start=1))
    linkable = linkable_components(lines, truth["line_person"])
    driver = AsyncGraphDatabase.driver(uri, auth=None)
    try:
        await _wipe(driver)
        print(f"defaults: importing {len(lines)} lines ...", file=sys.stderr, flush=True)
        defaults = await _run(driver, lines, DEFAULT_LIMITS, batch)
        defaults |= score(await _partition(driver), truth["aliases"], truth["noise"], linkable)
        print(f"defaults: {defaults}", file=sys.stderr, flush=True)

        await _wipe(driver)
        builtin = pii.DEFAULT_BLOCKED_VALUES
        pii.DEFAULT_BLOCKED_VALUES = frozenset()  # naive: junk values are ids like any other
        try:
            print(
                "naive: importing again with no limits and no blocked values ...", file=sys.stderr, flush=True
            )
            naive = await _run(driver, lines, {}, batch)
        finally:
            pii.DEFAULT_BLOCKED_VALUES = builtin
        naive |= score(await _partition(driver), truth["aliases"], truth["noise"], linkable)
        print(f"naive: {naive}", file=sys.stderr, flush=True)
    finally:
        await driver.close()
    return {
        "precision": defaults["precision"],
        "recall": defaults["recall"],
        "naive_precision": naive["precision"],
        "naive_recall": naive["recall"],
        "population": {
            "persons": persons,
            "seed": seed,
            "lines": truth["lines"],
            "aliases": len(truth["aliases"]),
            "noise": {k: len(v) for k, v in truth["noise"].items()},
            "near_identical_email_pairs": len(truth["near_identical_emails"]),
        },
        "batch_size": batch,
        "defaults": {"merge_limits": DEFAULT_LIMITS, "blocked": "built-in", **defaults},
        "naive": {"merge_limits": {}, "blocked": "none", **naive},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--persons", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--neo4j-uri", default=None, help="an existing (empty, disposable!) Neo4j; else one is started"
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results" / "quality.json")
    args = parser.parse_args()
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="idgraph-quality-") as tmp:
        server = None
        uri = args.neo4j_uri
        if uri is None:
            server = neo4j_local.start(Path(tmp) / "neo4j", heap="1g", page_cache="256m")
            uri = server.uri
        try:
            result = asyncio.run(
                measure(uri, args.persons, args.seed, args.batch_size, Path(tmp) / "population")
            )
        finally:
            if server is not None:
                server.stop()
    result["seconds"] = round(time.perf_counter() - started, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    keys = ("precision", "recall", "naive_precision", "naive_recall")
    print(json.dumps({k: result[k] for k in keys}))


if __name__ == "__main__":
    main()
