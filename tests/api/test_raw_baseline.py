"""The raw baseline make bench compares /track against (bench/ingest_cypher/raw_track.cypher) writes exactly
the graph delta the API writes for the same requests: the same nodes with the same labels and properties, the
same relationships with the same types and properties, for new visitors and for returning ones. That
includes the change feed's entry naming the visitor's aliases (a Change node and its NAMES relationships) and
the traits fold (the tf_* properties of the session, the profile and the events, compared as they are: they
follow from the events alone).

The same visits go through the API (real HTTP from 127.0.0.1) for one set of visitors and through the raw
statement for another; each visitor's component (its profile, the profile's members, the session's events,
and every relationship that touches them) is then compared, with the visitor's own id, generated ids and
times of receipt (and a Change's `at` and the time that begins its `seq`) normalised.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import neo4j
import pytest

from bench.raw_baseline import RAW, RAW_STATEMENT, Visitor, loopback_client, raw_params, track_body
from tests.helpers import LiveServer, unique

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
AGENT = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0"
RECEIPT = {"created_at", "received_at", "at"}  # the time of the write, never the same twice
SEQ = re.compile(r"^\d{16}(?=\d-)")  # a Change's seq: its `at` in microseconds, then its kind's digit

COMPONENT = """
MATCH (s:Session {id: $session})
OPTIONAL MATCH (s)-[:BELONGS_TO]->(p:Profile)
OPTIONAL MATCH (m)-[:BELONGS_TO]->(p)
OPTIONAL MATCH (e:Event)-[:BOUND_TO]->(s)
OPTIONAL MATCH (c:Change)-[:NAMES]->(:Alias)-[:BELONGS_TO]->(p)
WITH s, collect(DISTINCT p) + collect(DISTINCT m) + collect(DISTINCT e) + collect(DISTINCT c) AS found
UNWIND found + [s] AS n
WITH DISTINCT n
OPTIONAL MATCH (n)-[r]-()
RETURN collect(DISTINCT n) AS nodes, collect(DISTINCT r) AS rels
"""


def _plain(value: Any) -> Any:
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if hasattr(value, "iso_format"):
        return value.iso_format()
    return value


def component(driver: neo4j.Driver, visitor: Visitor) -> dict[str, Any]:
    """The visitor's component as comparable data: nodes in a stable order, each as its labels and properties,
    relationships as (type, start, end, properties) by node position; the visitor's tag, generated ids and
    times of receipt replaced by placeholders."""
    records, _, _ = driver.execute_query(COMPONENT, session=visitor.session)
    nodes, rels = records[0]["nodes"], records[0]["rels"]

    def masked(text: str) -> str:
        return UUID.sub("<uuid>", text.replace(visitor.tag, "<tag>"))

    def sort_key(node: Any) -> tuple[str, str]:
        props = dict(node)
        key = props.get("key") or props.get("urn") or props.get("id") or props.get("type") or ""
        return ",".join(sorted(node.labels)), masked(str(key))

    ordered = sorted(nodes, key=sort_key)
    ids: dict[str, str] = {}  # each generated id, by order of first appearance

    def normal(key: str, value: Any) -> Any:
        if key in RECEIPT:
            return "<receipt>"
        value = _plain(value)
        if key == "seq" and isinstance(value, str):
            value = SEQ.sub("<receipt>", value)
        return masked_ids(value)

    def masked_ids(value: Any) -> Any:
        if isinstance(value, list):  # a Change's aliases, a summary's event ids (tf_li, tf_ei)
            return [masked_ids(v) for v in value]
        if isinstance(value, str):
            value = value.replace(visitor.tag, "<tag>")
            return UUID.sub(lambda m: ids.setdefault(m.group(0), f"<id{len(ids)}>"), value)
        return value

    def props(entity: Any) -> dict[str, Any]:
        return {k: normal(k, entity[k]) for k in sorted(entity.keys())}

    position = {node.element_id: i for i, node in enumerate(ordered)}
    out_nodes = [{"labels": sorted(node.labels), **props(node)} for node in ordered]
    out_rels = sorted(
        (
            (
                rel.type,
                position.get(rel.start_node.element_id, "outside"),
                position.get(rel.end_node.element_id, "outside"),
                sorted(props(rel).items()),
            )
            for rel in rels
        ),
        key=repr,
    )
    return {"nodes": out_nodes, "relationships": out_rels}


def differences(api: list[dict[str, Any]], raw: list[dict[str, Any]]) -> list[Any]:
    """Node by node, the properties whose values differ (api, raw), for the failure message."""
    out: list[Any] = []
    for a, r in zip(api, raw, strict=False):
        diff = {k: (a.get(k), r.get(k)) for k in sorted(set(a) | set(r)) if a.get(k) != r.get(k)}
        if diff:
            out.append((a["labels"], diff))
    if len(api) != len(raw):
        out.append(("node count", len(api), len(raw)))
    return out


def raw_write(driver: neo4j.Driver, source_id: str, visitor: Visitor, events: list[dict[str, Any]]) -> None:
    params = raw_params(source_id, visitor, events, loopback_client(AGENT))
    records, _, _ = driver.execute_query(RAW[RAW_STATEMENT], params)
    assert records[0]["events"] == len(events)


@pytest.mark.parametrize("batch", [1, 5])
def test_raw_baseline_writes_what_the_api_writes(
    live_server: LiveServer, graph: neo4j.Driver, batch: int
) -> None:
    source_id = unique("raw-baseline")
    response = httpx.post(
        f"{live_server.url}/sources",
        json={"id": source_id, "name": "raw baseline"},
        headers=live_server.admin,
        timeout=60,
    )
    assert response.status_code == 201, response.text
    pairs = [(Visitor(batch), Visitor(batch)) for _ in range(2)]
    # A generous timeout: the first writes on a fresh Neo4j plan the statements, slowly on a busy machine.
    with httpx.Client(base_url=live_server.url, headers={"user-agent": AGENT}, timeout=120) as http:
        for visit in ("new visitor", "returning visitor", "returning again"):
            for api_visitor, raw_visitor in pairs:
                api_events, raw_events = api_visitor.visit(), raw_visitor.visit()
                response = http.post(
                    "/track",
                    content=track_body(source_id, api_visitor, api_events),
                    headers={"content-type": "application/json"},
                )
                assert response.status_code == 200, response.text
                raw_write(graph, source_id, raw_visitor, raw_events)
            for api_visitor, raw_visitor in pairs:
                api, raw = component(graph, api_visitor), component(graph, raw_visitor)
                # What the API writes is all there, then the two are the same, node for node, edge for edge.
                types = {rel[0] for rel in api["relationships"]}
                assert {"BELONGS_TO", "HAS_ALIAS", "CLAIMED", "BOUND_TO", "NAMES"} <= types, (visit, types)
                assert len(api["nodes"]) == 5 + batch * api_visitor.visits, (visit, api["nodes"])
                by_label = {tuple(n["labels"]): n for n in api["nodes"]}
                change = by_label[("Change",)]
                assert change["type"] == "profile-created", change
                assert change["aliases"] == ["urn:anonymous_id:d-<tag>"], change
                assert change["seq"].startswith("<receipt>1-"), change
                profile, session = by_label[("Profile",)], by_label[("Session",)]
                assert profile["tf_events"] == session["tf_events"] == batch * api_visitor.visits, visit
                assert (profile["tf_sessions"], session["tf_sessions"]) == (1, 0), visit
                assert all(n.get("tf_folded") for n in api["nodes"] if n["labels"] == ["Event"]), visit
                assert raw["nodes"] == api["nodes"], (visit, differences(api["nodes"], raw["nodes"]))
                assert raw["relationships"] == api["relationships"], visit
