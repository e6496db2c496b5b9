"""Resolution quality: pairwise precision and recall of idgraph's profiles against a synthetic ground truth.

    .venv/bin/python -m bench.quality [--persons 200] [--seed 7]    # ~4 min; bench/results/quality.json

1. `bench/population.py` generates the population (NDJSON of all five dialects, with noise) and its truth.
2. defaults: the lines go through `app.services.bulk_import.BulkImporter` (what `idgraph import` runs: the
   dialects' translators and the one `IngestionService`, `Services.bulk_ingestion`, 100 lines per
   transaction) with the merge limits of the default settings (`load_settings({})`: customer_id=1,
   user_id=1 when this was written; the result records them as `defaults.merge_limits`) and the built-in
   blocked values.
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

import asyncio
import json
import logging
import sys
import time
from collections import Counter, defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec

import graph_model.pii as pii
from app.services.bulk_import import BulkImporter, Rejected, detect_dialect, translate
from app.services.container import Services
from app.settings import MergeLimits
from app.store.repository import GraphRepository
from bench._common import RESULTS, Graph, arguments, connect, local_neo4j, write_result
from bench.population import generate

SOURCE = "bench-quality"
CYPHER = "bench.quality_cypher"


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


async def _partition(statements: GraphRepository) -> dict[str, str]:
    return {r["urn"]: r["profile_id"] for r in await statements.read("alias_profiles")}


async def _wipe(statements: GraphRepository) -> None:
    # CALL { } IN TRANSACTIONS needs an auto-commit transaction.
    async with statements.session() as session:
        await (await session.run(statements.catalog["wipe"])).consume()


async def _run(services: Services, lines: list[tuple[int, bytes]], batch: int) -> dict[str, Any]:
    await services.store.bootstrap_schema()
    if await services.sources.get(SOURCE) is None:
        await services.sources.create("quality bench", SOURCE)
    rejects: list[tuple[int, str]] = []
    importer = BulkImporter(
        services.bulk_ingestion,
        source_id=SOURCE,
        batch_size=batch,
        on_reject=lambda n, why, _: rejects.append((n, why)),
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


def naive_settings(graph: Graph) -> Services:
    """The services again with no merge limits at all: merge anything that shares any identifier."""
    return graph.services_with(msgspec.structs.replace(graph.settings, merge_limits=MergeLimits({})))


async def measure(uri: str, persons: int, seed: int, batch: int, workdir: Path) -> dict[str, Any]:
    truth = generate(persons, seed, workdir)
    data = (workdir / "events.ndjson").read_bytes().splitlines()
    lines = list(enumerate(data, start=1))
    linkable = linkable_components(lines, truth["line_person"])
    async with connect(uri) as graph:
        statements = graph.statements(CYPHER)
        default_limits = graph.settings.merge_limits.per_type
        await _wipe(statements)
        print(f"defaults: importing {len(lines)} lines ...", file=sys.stderr, flush=True)
        defaults = await _run(graph.services, lines, batch)
        defaults |= score(await _partition(statements), truth["aliases"], truth["noise"], linkable)
        print(f"defaults: {defaults}", file=sys.stderr, flush=True)

        await _wipe(statements)
        naive_services = naive_settings(graph)
        builtin = pii.DEFAULT_BLOCKED_VALUES
        pii.DEFAULT_BLOCKED_VALUES = frozenset()  # naive: junk values are ids like any other
        try:
            print(
                "naive: importing again with no limits and no blocked values ...", file=sys.stderr, flush=True
            )
            naive = await _run(naive_services, lines, batch)
        finally:
            pii.DEFAULT_BLOCKED_VALUES = builtin
        naive |= score(await _partition(statements), truth["aliases"], truth["noise"], linkable)
        print(f"naive: {naive}", file=sys.stderr, flush=True)
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
        "defaults": {"merge_limits": default_limits, "blocked": "built-in", **defaults},
        "naive": {"merge_limits": {}, "blocked": "none", **naive},
    }


def main() -> None:
    parser = arguments(__doc__)
    parser.add_argument("--persons", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--batch-size", type=int, default=100)
    parser.add_argument(
        "--neo4j-uri", default=None, help="an existing (empty, disposable!) Neo4j; else one is started"
    )
    parser.add_argument("--out", type=Path, default=RESULTS / "quality.json")
    args = parser.parse_args()
    logging.getLogger("neo4j").setLevel(logging.ERROR)
    started = time.perf_counter()
    with local_neo4j("idgraph-quality-", heap="1g", page_cache="256m", uri=args.neo4j_uri) as neo4j:
        result = asyncio.run(
            measure(neo4j.uri, args.persons, args.seed, args.batch_size, neo4j.workdir / "population")
        )
    result["seconds"] = round(time.perf_counter() - started, 1)
    write_result(args.out, result, "precision", "recall", "naive_precision", "naive_recall")


if __name__ == "__main__":
    main()
