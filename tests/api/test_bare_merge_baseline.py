"""The hand-written merge make bench compares the service's linking merge against
(bench/identity_cypher/bare_merge.cypher, `merge_cost_ratio_max` in bench/identity.py) leaves exactly the
graph delta the service leaves for the same linking request on components seeded alike: the same nodes created
(with the same labels and properties), the same nodes deleted, the same properties changed on the nodes that
stay, the same relationships created and deleted (type, ends, properties). That covers the change feed's
profile-merged entry, the audit event, the clocks, the evidence links and the traits fold (the survivor's
summary, the new session's and the event's).

Each side's region (both components, their events, and every node one hop from them: audit events, feed
entries) is read before and after the merge, and the difference is compared with generated ids, the
components' tags and profile ids (by role: survivor or merged) and times of receipt normalised.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import neo4j
import pytest

from app.services.ingestion import IngestionService
from app.services.trait_folds import TraitFolds
from app.store.catalog import QueryCatalog, catalog
from app.store.repository import GraphRepository
from bench.identity import bare_merge_params, generate, link_batch
from tests.helpers import Neo4jServer, async_driver

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
RECEIPT = {"created_at", "received_at", "at"}  # the time of the write, never the same twice
SEQ = re.compile(r"^\d{16}(?=\d-)")  # a Change's seq: its `at` in microseconds, then its kind's digit
JSON_DETAILS = {"properties_json", "details_json"}

REGION = """
UNWIND $profile_ids AS pid
MATCH (h:ProfileId {id: pid})-[:BELONGS_TO]->(p:Profile)
OPTIONAL MATCH (m)-[:BELONGS_TO]->(p)
OPTIONAL MATCH (e:Event)-[:BOUND_TO]->(m)
WITH collect(DISTINCT h) + collect(DISTINCT p) + collect(DISTINCT m) + collect(DISTINCT e) AS inner
UNWIND inner AS n
OPTIONAL MATCH (n)-[r]-(x)
WITH collect(DISTINCT n) AS inner, collect(DISTINCT x) AS outer, collect(DISTINCT r) AS rels
RETURN inner + outer AS nodes, rels
"""


def region(driver: neo4j.Driver, profile_ids: list[str]) -> tuple[dict[str, Any], dict[str, Any]]:
    """The nodes and relationships of the region, by element id: (labels, properties) and
    (type, start element id, end element id, properties)."""
    records, _, _ = driver.execute_query(REGION, profile_ids=profile_ids)
    nodes = {n.element_id: (frozenset(n.labels), dict(n)) for n in records[0]["nodes"] if n is not None}
    rels = {
        r.element_id: (r.type, r.start_node.element_id, r.end_node.element_id, dict(r))
        for r in records[0]["rels"]
        if r is not None
    }
    return nodes, rels


class Normaliser:
    """Replaces what differs between two runs of the same merge: the components' tags and profile ids (by
    the role they play), generated ids (by order of first appearance), times of receipt and of seeding (the
    request's event time `time` stays recognisable)."""

    def __init__(self, roles: dict[str, str], time: datetime) -> None:
        self._roles = roles  # tag or profile id -> <survivor> / <merged>
        self._time = time
        self._ids: dict[str, str] = {}

    def text(self, value: str, *, sort: bool = False) -> str:
        for raw, role in self._roles.items():
            value = value.replace(raw, role)
        if sort:
            return UUID.sub("<uuid>", value)
        return UUID.sub(lambda m: self._ids.setdefault(m.group(0), f"<id{len(self._ids)}>"), value)

    def value(self, key: str, value: Any, *, sort: bool = False) -> Any:
        if key in RECEIPT:
            return "<receipt>"
        if isinstance(value, list):
            return [self.value("", v, sort=sort) for v in value]
        if hasattr(value, "to_native"):
            return "<request time>" if value.to_native() == self._time else "<other time>"
        if key == "seq" and isinstance(value, str):
            value = SEQ.sub("<receipt>", value)
        if key in JSON_DETAILS and isinstance(value, str) and value.startswith("{"):
            # An audit's details: the aliases in URN order, which follows the random tags, not the roles.
            details = {k: self.value(k, v, sort=sort) for k, v in json.loads(value).items()}
            if isinstance(details.get("aliases"), list):
                details["aliases"] = sorted(details["aliases"])
            return details
        if isinstance(value, str):
            return self.text(value, sort=sort)
        return value

    def node_key(self, labels: frozenset[str], props: dict[str, Any]) -> str:
        ident = props.get("key") or props.get("urn") or props.get("id") or props.get("type") or ""
        return ",".join(sorted(labels)) + ":" + self.text(str(ident), sort=True)

    def props(self, props: dict[str, Any]) -> dict[str, Any]:
        return {k: self.value(k, props[k]) for k in sorted(props)}


def delta(
    before: tuple[dict[str, Any], dict[str, Any]],
    after: tuple[dict[str, Any], dict[str, Any]],
    norm: Normaliser,
) -> dict[str, Any]:
    """What the merge changed in the region, normalised: created and deleted nodes, changed properties of
    the nodes that stayed, created and deleted relationships."""
    nodes_before, rels_before = before
    nodes_after, rels_after = after
    every = nodes_before | nodes_after
    key = {eid: norm.node_key(*every[eid]) for eid in every}
    # Assign generated ids in an order that does not depend on them.
    created = sorted((eid for eid in nodes_after if eid not in nodes_before), key=lambda e: key[e])
    deleted = sorted((eid for eid in nodes_before if eid not in nodes_after), key=lambda e: key[e])
    out: dict[str, Any] = {
        "created": [(key[e], norm.props(nodes_after[e][1])) for e in created],
        "deleted": [(key[e], norm.props(nodes_before[e][1])) for e in deleted],
    }
    changed = []
    for eid in sorted((e for e in nodes_after if e in nodes_before), key=lambda e: key[e]):
        old, new = nodes_before[eid][1], nodes_after[eid][1]
        diff = {k: norm.value(k, new.get(k)) for k in sorted(set(old) | set(new)) if old.get(k) != new.get(k)}
        if diff:
            changed.append((key[eid], diff))
    out["changed"] = sorted(changed, key=repr)

    def rel(entry: tuple[str, str, str, dict[str, Any]]) -> tuple[Any, ...]:
        kind, start, end, props = entry
        return (kind, norm.text(key[start]), norm.text(key[end]), sorted(norm.props(props).items()))

    out["rels_created"] = sorted(
        (rel(r) for eid, r in rels_after.items() if eid not in rels_before), key=repr
    )
    out["rels_deleted"] = sorted(
        (rel(r) for eid, r in rels_before.items() if eid not in rels_after), key=repr
    )
    return out


Link = Callable[[str, str, datetime], Awaitable[None]]


async def _merge_delta(
    server: Neo4jServer, graph: neo4j.Driver, small: int, big: int, events: int, bare: bool
) -> dict[str, Any]:
    """Seed two components (`small` and `big` aliases, `events` events a session), link one alias of each
    through the service or the bare statement, and answer the delta."""
    driver = async_driver(server)
    try:
        seeds = GraphRepository(driver, QueryCatalog("bench.identity_cypher"), "neo4j")
        tag_a, tag_b = f"m{uuid.uuid4().hex[:8]}a", f"m{uuid.uuid4().hex[:8]}b"
        pa, a = await generate(seeds, small, tag_a, events)
        pb, b = await generate(seeds, big, tag_b, events)
        if events:
            # The traits summaries the service would have folded those events into, so that the merge
            # folds real summaries (tf_* of the sessions and profiles).
            store = GraphRepository(driver, catalog(), "neo4j")
            await store.write_unit(lambda tx: TraitFolds(store).recompute_from_events(tx, [pa, pb]))
        before = region(graph, [pa, pb])
        # A time of its own to the microsecond, after the seeding, so the request's event time is told apart
        # from the rest and widens the aliases' last seen.
        when = datetime.now(UTC).replace(microsecond=123457) + timedelta(seconds=1)
        if bare:
            params = bare_merge_params(a, b, when)
            records, _, _ = await driver.execute_query(seeds.catalog["bare_merge"], params)
            assert records, "the bare merge wrote nothing"
        else:
            service = IngestionService(GraphRepository(driver, catalog(), "neo4j"))
            result = await service.ingest(link_batch(a, b, when))
            assert len(result.merges) == 1, result
        after = region(graph, [pa, pb])
        survivor = next(
            pid
            for pid in (pa, pb)
            if any(labels == {"Profile"} and p["id"] == pid for labels, p in after[0].values())
        )
        roles = {
            pa: "<survivor>" if survivor == pa else "<merged>",
            pb: "<survivor>" if survivor == pb else "<merged>",
        }
        roles |= {tag_a: roles[pa] + "-tag", tag_b: roles[pb] + "-tag"}
        return delta(before, after, Normaliser(roles, when))
    finally:
        await driver.close()


def merge_delta(
    server: Neo4jServer, graph: neo4j.Driver, small: int, big: int, events: int, *, bare: bool
) -> dict[str, Any]:
    return asyncio.run(_merge_delta(server, graph, small, big, events, bare))


# Sizes differ where there are events: at equal sizes the survivor is the one with the smaller (random) id,
# and which side's seeded events are older would then differ from run to run.
@pytest.mark.parametrize(("small", "big", "events"), [(10, 10, 0), (10, 30, 2), (30, 10, 1)])
def test_bare_merge_leaves_the_delta_the_service_leaves(
    neo4j_server: Neo4jServer, graph: neo4j.Driver, small: int, big: int, events: int
) -> None:
    for _ in range(2):  # the first plans the statements; the comparison holds for every run
        api = merge_delta(neo4j_server, graph, small, big, events, bare=False)
        raw = merge_delta(neo4j_server, graph, small, big, events, bare=True)
        # What the service writes for a linking merge is all there ...
        created = {k.split(":")[0] for k, _ in api["created"]}
        assert {"Session", "Event", "Event,SystemEvent", "Change"} <= created, api["created"]
        assert [k for k, _ in api["deleted"]] == ["Profile:<merged>"], api["deleted"]
        kinds = {r[0] for r in api["rels_created"]}
        assert {"BELONGS_TO", "BOUND_TO", "HAS_ALIAS", "ABOUT", "NAMES"} <= kinds, kinds
        survivor = dict(api["changed"])["Profile:<survivor>"]
        assert {"size", "clock", "tf_events", "tf_sessions"} <= set(survivor), survivor
        # ... then the bare statement's delta is the same, entry for entry.
        for part in ("created", "deleted", "changed", "rels_created", "rels_deleted"):
            assert raw[part] == api[part], (part, _differences(api[part], raw[part]))


def _differences(api: list[Any], raw: list[Any]) -> list[Any]:
    only_api = [x for x in api if x not in raw]
    only_raw = [x for x in raw if x not in api]
    return [("only api", only_api), ("only bare", only_raw)]
