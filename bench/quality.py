"""Resolution quality: pairwise precision and recall of idgraph's profiles against a synthetic ground truth.

    .venv/bin/python -m bench.quality [--persons 200] [--seed 7]    # ~6 min; bench/results/quality.json

1. `bench/population.py` generates the population (NDJSON of all five dialects, with noise) and its truth.
2. The lines go through `app.services.bulk_import.BulkImporter` (what `idgraph import` runs: the dialects'
   translators and the one `IngestionService`, `Services.bulk_ingestion`, 100 lines per transaction) three
   times, on an emptied database each time:
   - defaults: the settings of `load_settings({})`, i.e. identity rules v2 (`graph_model.identity_rules.
     DEFAULTS`) and the built-in blocked values;
   - v1: the same with the v1 rules (`identity_rules.V1`: every type weak, one user_id and one customer_id
     per profile), what idgraph did before v2;
   - naive: no rules at all (every type weak, no limits) and no blocked values (`graph_model.pii.
     DEFAULT_BLOCKED_VALUES` emptied in this process: "undefined", "null", "0" become aliases like any id),
     i.e. "merge anything that shares any identifier".

After each run the partition of aliases is read from Neo4j (alias -> profile). Pairs are scored over the
aliases the truth gives one owner (shared devices, kiosks, junk values and re-used tokens have none, so they
are not scored, but they still act on the merges); an owned alias the graph does not hold is a profile of its
own. A predicted pair is two aliases in one profile; it is correct when one person owns both.
- precision = correct predicted pairs / predicted pairs;
- recall = of the pairs of a person's aliases that the person's own evidence connects, the share that one
  profile holds. The evidence is the generator's (truth.json `people.*.evidence`: the URNs each session,
  Segment visit and order of the person carries, as the generator wrote them, not as idgraph's translators
  read them), joined with union-find, without the noise URNs (shared devices, kiosks, junk, re-used tokens):
  two aliases the person never used together, directly or through other aliases of their own, are not
  counted, since no rule could join them without trusting someone else's evidence;
- recall_all = the same over all pairs of a person's aliases.
Misses are counted by cause (`recall_misses_by_cause`; `recall_all_misses_by_cause` adds the pairs no own
evidence connects); false pairs by the noise that sits in the profile holding them. Two partitions that need
no import check the scoring itself: `merge_everything` (one profile for all: recall 1, precision tiny) and
`singletons` (a profile per alias: precision 1 by convention, recall 0).
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import msgspec

import graph_model.pii as pii
from app.logging import configure_logging
from app.services.bulk_import import BulkImporter
from app.services.container import Services
from app.settings import MergeLimits, Settings, load_settings
from app.store.repository import GraphRepository
from bench._common import RESULTS, Graph, arguments, connect, local_neo4j, write_result
from bench.population import NOISE_KINDS, generate
from graph_model.components import UnionFind
from graph_model.identity_rules import V1, IdentityRules

SOURCE = "bench-quality"
CYPHER = "bench.quality_cypher"
# The kinds of login whose only tie to the rest of the person is a weak id: the misses v2 makes by design.
BY_DESIGN = {"second_alone": "second email alone on own device (by design)"}
EXAMPLES = 8

Partition = Mapping[str, str]  # urn -> profile id


def _pairs(n: int) -> int:
    return n * (n - 1) // 2


def _clustered_pairs(keys: Iterable[str]) -> int:
    return sum(_pairs(n) for n in Counter(keys).values())


def own_components(
    people: Mapping[str, Any], owned: Mapping[str, str], skip_logins: Iterable[str] = ()
) -> dict[str, str]:
    """For each owned alias, the component it falls in within its own person's evidence (the generator's:
    truth.json `people.*.evidence`), leaving out the URNs nobody owns alone (noise) and the evidence units
    whose login is one of `skip_logins`. Keys are `person|root`."""
    skip = set(skip_logins)
    uf: UnionFind[str] = UnionFind()
    for person, facts in people.items():
        for unit in facts["evidence"]:
            if unit["login"] in skip:
                continue
            mine = [f"{person}|{urn}" for urn in unit["aliases"] if owned.get(urn) == person]
            uf.union(*mine)
    return {urn: uf.find(f"{person}|{urn}") for urn, person in owned.items()}


def _emails_used_alone(people: Mapping[str, Any]) -> dict[str, set[str]]:
    """person -> the emails their by-design units carry (a second email used alone on their own device)."""
    return {
        person: {
            urn
            for unit in facts["evidence"]
            if unit["login"] in BY_DESIGN
            for urn in unit["aliases"]
            if urn.startswith("urn:email:")
        }
        for person, facts in people.items()
    }


def score(partition: Partition, truth: Mapping[str, Any], detail: bool = True) -> dict[str, Any]:
    """Pairwise precision / recall of `partition` over the aliases with one true owner (see the docstring)."""
    owned: dict[str, str] = {urn: person for urn, person in truth["aliases"].items() if person}
    people = truth["people"]
    own = own_components(people, owned)
    without_design = own_components(people, owned, BY_DESIGN)

    def where(urn: str) -> str:
        return partition.get(urn, "missing:" + urn)

    by_person = Counter(owned.values())
    true_pairs = sum(_pairs(n) for n in by_person.values())
    own_pairs = _clustered_pairs(own.values())
    by_design_pairs = own_pairs - _clustered_pairs(without_design.values())
    predicted = _clustered_pairs(where(u) for u in owned)
    correct = _clustered_pairs(f"{where(u)}|{p}" for u, p in owned.items())
    own_hits = _clustered_pairs(f"{where(u)}|{own[u]}" for u in owned)

    result: dict[str, Any] = {
        "precision": round(correct / predicted, 5) if predicted else 1.0,
        "recall": round(own_hits / own_pairs, 5) if own_pairs else 1.0,
        "recall_all": round(correct / true_pairs, 5) if true_pairs else 1.0,
        "scored_aliases": len(owned),
        "true_pairs": true_pairs,
        "own_evidence_pairs": own_pairs,
        "by_design_pairs": by_design_pairs,
        "predicted_pairs": predicted,
        "correct_pairs": correct,
        "own_evidence_pairs_found": own_hits,
    }
    if not detail:
        return result

    # Misses: the pairs of a person's own evidence that no one profile holds, by cause.
    kind_of = {urn: kind for kind, urns in truth["noise"].items() for urn in urns}
    noise_in: dict[str, set[str]] = defaultdict(set)
    for urn, profile in partition.items():
        if urn in kind_of:
            noise_in[profile].add(urn)
    used_alone = _emails_used_alone(people)
    members: dict[str, list[str]] = defaultdict(list)
    for urn, profile in partition.items():
        members[profile].append(urn)
    components: dict[str, list[str]] = defaultdict(list)
    for urn in owned:
        components[own[urn]].append(urn)
    causes: Counter[str] = Counter()
    examples: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _component, urns in sorted(components.items()):
        for a, b in itertools.combinations(sorted(urns), 2):
            if where(a) == where(b):
                continue
            cause = _cause(a, b, partition, members, without_design, noise_in, kind_of, used_alone[owned[a]])
            causes[cause] += 1
            if len(examples[cause]) < EXAMPLES:
                person = owned[a]
                examples[cause].append(
                    {
                        "person": person,
                        "kinds": people[person]["kinds"],
                        "pair": [a, b],
                        "profiles": [partition.get(a), partition.get(b)],
                        "noise_in_profiles": sorted(
                            noise_in.get(where(a), set()) | noise_in.get(where(b), set())
                        ),
                    }
                )
    all_causes = Counter(causes)
    unconnected_missed = (true_pairs - correct) - (own_pairs - own_hits)
    if unconnected_missed:
        all_causes["no own evidence connects them"] = unconnected_missed

    # False pairs: which noise sits in the profiles that hold them.
    clusters: dict[str, list[str]] = defaultdict(list)
    for urn, person in owned.items():
        clusters[where(urn)].append(person)
    false_by_noise: Counter[str] = Counter()
    impure: list[tuple[int, str, list[str]]] = []
    for profile, owners in clusters.items():
        false = _pairs(len(owners)) - _clustered_pairs(owners)
        if false:
            kinds = {kind_of[u] for u in noise_in.get(profile, set())} or {"none"}
            for kind in kinds:
                false_by_noise[kind] += false
            impure.append((false, profile, owners))
    impure.sort(key=lambda x: (-x[0], x[1]))
    result |= {
        "recall_misses_by_cause": dict(causes.most_common()),
        "recall_all_misses_by_cause": dict(all_causes.most_common()),
        "recall_miss_examples": dict(examples),
        "profiles_with_strangers": len(impure),
        "false_pairs_by_noise_in_profile": dict(false_by_noise.most_common()),
        "false_pair_profiles": [
            {
                "profile": profile,
                "false_pairs": false,
                "persons": dict(Counter(owners).most_common()),
                "noise": sorted(noise_in.get(profile, set())),
            }
            for false, profile, owners in impure[:EXAMPLES]
        ],
        "split_persons": sum(
            1 for n in Counter(p for _, p in {(where(u), p) for u, p in owned.items()}).values() if n > 1
        ),
    }
    return result


def _cause(
    a: str,
    b: str,
    partition: Partition,
    members: Mapping[str, list[str]],
    without_design: Mapping[str, str],
    noise_in: Mapping[str, set[str]],
    kind_of: Mapping[str, str],
    used_alone: set[str],
) -> str:
    """Why two aliases that a person's own evidence connects sit in different profiles."""
    if a not in partition or b not in partition:
        return "alias not in the graph"
    if without_design[a] != without_design[b]:
        return BY_DESIGN["second_alone"]
    # One side sits in the profile of the person's own email used alone on a device: the device was seen
    # with it first, and the account's later evidence on that device was refused.
    for urn in (a, b):
        if used_alone & set(members[partition[urn]]):
            return "device joined a second email used alone first (knock-on of the by-design miss)"
    for urn in (a, b):
        if {kind_of[n] for n in noise_in.get(partition[urn], set())} & {"shared_device", "kiosk"}:
            return "in the profile of a shared device"
    return "other"


async def _partition(statements: GraphRepository) -> dict[str, str]:
    return {r["urn"]: r["profile_id"] for r in await statements.read("alias_profiles")}


async def _wipe(statements: GraphRepository) -> None:
    # CALL { } IN TRANSACTIONS needs an auto-commit transaction.
    async with statements.session() as session:
        await (await session.run(statements.catalog["wipe"])).consume()


async def _import(services: Services, lines: list[tuple[int, bytes]], batch: int) -> dict[str, Any]:
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


def _shared_marks(shared: list[str], truth: Mapping[str, Any]) -> dict[str, Any]:
    """The aliases the run marked shared: the noise ones (what the mark is for) and the ones a single person
    owns (their own device or token, which from then on makes no new links), by type, with examples."""
    kind_of = {urn: kind for kind, urns in truth["noise"].items() for urn in urns}
    owners = truth["aliases"]
    owned = sorted(u for u in shared if owners.get(u))
    return {
        "noise": dict(Counter(kind_of.get(u, "unknown") for u in shared if not owners.get(u)).most_common()),
        "owned_by_one_person": dict(Counter(u.split(":")[1] for u in owned).most_common()),
        "owned_examples": [{"urn": u, "person": owners[u]} for u in owned[:EXAMPLES]],
    }


def with_rules(settings: Settings, rules: IdentityRules) -> Settings:
    """`settings` with other identity rules (and the merge limits that follow from them)."""
    return msgspec.structs.replace(settings, identity_rules=rules, merge_limits=MergeLimits(rules.limits()))


NAIVE = IdentityRules.of(())  # every type weak and unlimited: any shared alias joins


def _rules_table(rules: IdentityRules) -> list[dict[str, Any]]:
    return [msgspec.to_builtins(r) for r in rules.table()]


async def _run(
    name: str, graph: Graph, settings: Settings, lines: list[tuple[int, bytes]], batch: int, truth: Any
) -> tuple[dict[str, Any], dict[str, str]]:
    statements = graph.statements(CYPHER)
    await _wipe(statements)
    print(f"{name}: importing {len(lines)} lines ...", file=sys.stderr, flush=True)
    stats = await _import(graph.services_with(settings), lines, batch)
    partition = await _partition(statements)
    result = {
        "rules": _rules_table(settings.identity_rules),
        **stats,
        **score(partition, truth),
        "shared_marks": _shared_marks([r["urn"] for r in await statements.read("shared_aliases")], truth),
    }
    headline = {k: result[k] for k in ("precision", "recall", "recall_all", "import_seconds")}
    print(f"{name}: {headline} misses {result['recall_misses_by_cause']}", file=sys.stderr, flush=True)
    return result, partition


async def measure(uri: str, persons: int, seed: int, batch: int, workdir: Path) -> dict[str, Any]:
    truth = generate(persons, seed, workdir)
    data = (workdir / "events.ndjson").read_bytes().splitlines()
    lines = list(enumerate(data, start=1))
    owned = [urn for urn, person in truth["aliases"].items() if person]
    sanity = {
        "merge_everything": score(dict.fromkeys(owned, "all"), truth, detail=False),
        "singletons": score({u: u for u in owned}, truth, detail=False),
    }
    async with connect(uri) as graph:
        defaults, _ = await _run("defaults (v2)", graph, graph.settings, lines, batch, truth)
        v1, _ = await _run("v1", graph, with_rules(graph.settings, V1), lines, batch, truth)
        builtin = pii.DEFAULT_BLOCKED_VALUES
        pii.DEFAULT_BLOCKED_VALUES = frozenset()  # naive: junk values are ids like any other
        try:
            naive, _ = await _run("naive", graph, with_rules(graph.settings, NAIVE), lines, batch, truth)
        finally:
            pii.DEFAULT_BLOCKED_VALUES = builtin
    kinds = Counter(kind for person in truth["people"].values() for kind in person["kinds"])
    return {
        "precision": defaults["precision"],
        "recall": defaults["recall"],
        "recall_all": defaults["recall_all"],
        "recall_misses_by_cause": defaults["recall_misses_by_cause"],
        "v1_precision": v1["precision"],
        "v1_recall": v1["recall"],
        "v1_recall_all": v1["recall_all"],
        "naive_precision": naive["precision"],
        "naive_recall": naive["recall"],
        "merge_everything_precision": sanity["merge_everything"]["precision"],
        "population": {
            "persons": persons,
            "seed": seed,
            "lines": truth["lines"],
            "aliases": len(truth["aliases"]),
            "owned_aliases": len(owned),
            "kinds": dict(sorted(kinds.items())),
            "noise": {k: len(truth["noise"][k]) for k in NOISE_KINDS},
            "near_identical_email_pairs": len(truth["near_identical_emails"]),
        },
        "batch_size": batch,
        "defaults": {"blocked": "built-in", **defaults},
        "v1": {"blocked": "built-in", **v1},
        "naive": {"blocked": "none", **naive},
        "sanity": sanity,
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
    # The ingestion service logs every merge at info; the bench prints its own progress.
    configure_logging(msgspec.structs.replace(load_settings({}), log_level="WARNING"))
    started = time.perf_counter()
    with local_neo4j("idgraph-quality-", heap="1g", page_cache="256m", uri=args.neo4j_uri) as neo4j:
        result = asyncio.run(
            measure(neo4j.uri, args.persons, args.seed, args.batch_size, neo4j.workdir / "population")
        )
    result["seconds"] = round(time.perf_counter() - started, 1)
    write_result(
        args.out,
        result,
        "precision",
        "recall",
        "recall_all",
        "v1_precision",
        "v1_recall",
        "naive_precision",
        "merge_everything_precision",
        "recall_misses_by_cause",
    )


if __name__ == "__main__":
    main()
