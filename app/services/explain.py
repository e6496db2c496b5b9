"""Explanation: the component around a profile as nodes and edges, the evidence chain between two aliases, and
the identity audit (merges, refusals, splits). Read-only."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec

from app.services.read import ReadQueries, Ref, native

KINDS = {"alias", "session", "profile_id", "profile", "event"}


def node_id(kind: str, key: str) -> str:
    """Graph node ids carry their kind, so an alias URN and a session id can never collide."""
    return f"{kind}:{key}"


class GraphNode(msgspec.Struct, omit_defaults=True):
    id: str
    kind: str
    label: str
    type: str | None = None  # the URN type of an alias; the event type of an event
    first_seen: datetime | None = None
    last_seen: datetime | None = None
    # An alias marked shared (a weak alias that took part in a refused join): it keeps its links and makes no
    # new ones. Only present, as true, on such aliases.
    shared: bool = False


class GraphEdge(msgspec.Struct):
    source: str
    target: str
    kind: str


class ComponentGraph(msgspec.Struct):
    profile: Ref
    nodes: list[GraphNode]
    edges: list[GraphEdge]
    truncated: bool
    node_count: int  # members of the component (plus events when asked for), before the cap


# Tagged ("step": "node" | "link") so the path's item type is a union the OpenAPI schema can describe;
# untagged, Litestar failed to build /schema/openapi.json at all.
class PathNode(msgspec.Struct, tag_field="step", tag="node"):
    id: str
    kind: str
    label: str


class PathLink(msgspec.Struct, omit_defaults=True, tag_field="step", tag="link"):
    kind: str
    source: str
    target: str
    event_id: str | None = None


class PathAnswer(msgspec.Struct):
    connected: bool
    profile: Ref | None
    path: list[PathNode | PathLink]
    reason: str | None = None


class AuditEntry(msgspec.Struct):
    id: str
    type: str
    time: datetime | None
    properties: dict[str, Any]


class AuditList(msgspec.Struct):
    items: list[AuditEntry]


class ExplainService(ReadQueries):
    async def resolve(self, profile_id: str) -> tuple[str, int] | None:
        rows = await self._rows("explain_resolve_profile", id=profile_id)
        return (rows[0]["id"], rows[0]["size"]) if rows else None

    async def graph(self, profile_id: str, *, limit: int, with_events: bool) -> ComponentGraph | None:
        resolved = await self.resolve(profile_id)
        if resolved is None:
            return None
        live_id, size = resolved
        members = await self._rows("explain_graph_members", profile_id=live_id, limit=limit)
        profile_node = node_id("profile", live_id)
        nodes = [GraphNode(profile_node, "profile", live_id)]
        by_element: dict[str, str] = {}
        edges: list[GraphEdge] = []
        for m in members:
            nid = node_id(m["kind"], m["key"])
            by_element[m["element_id"]] = nid
            nodes.append(
                GraphNode(
                    nid,
                    m["kind"],
                    m["key"],
                    m["type"],
                    native(m["first_seen"]),
                    native(m["last_seen"]),
                    shared=bool(m["shared"]),
                )
            )
            edges.append(GraphEdge(nid, profile_node, "BELONGS_TO"))
        anchors = [e for e, nid in by_element.items() if not nid.startswith("alias:")]
        for link in await self._rows("explain_graph_evidence", element_ids=anchors):
            source, target = by_element.get(link["source"]), by_element.get(link["target"])
            if source and target:
                edges.append(GraphEdge(source, target, link["kind"]))
        node_count = size
        truncated = size > len(members)
        if with_events:
            room = max(limit - len(members), 0)
            events = await self._rows("explain_graph_events", element_ids=anchors, limit=room + 1)
            truncated = truncated or len(events) > room
            node_count += len(events)
            for ev in events[:room]:
                eid = node_id("event", ev["id"])
                nodes.append(
                    GraphNode(eid, "event", ev["type"], ev["type"], native(ev["time"]), native(ev["time"]))
                )
                edges.append(GraphEdge(eid, by_element[ev["anchor"]], "BOUND_TO"))
                for urn in ev["aliases"]:
                    target = node_id("alias", urn)
                    if any(n.id == target for n in nodes):
                        edges.append(GraphEdge(eid, target, "HAS_ALIAS"))
        return ComponentGraph(Ref(live_id), nodes, edges, truncated, node_count)

    async def path(self, from_urn: str, to_urn: str) -> PathAnswer:
        known = {r["urn"]: r for r in await self._rows("explain_alias_profiles", urns=[from_urn, to_urn])}
        for urn in (from_urn, to_urn):
            if not known[urn]["known"]:
                return PathAnswer(False, None, [], f"unknown alias {urn}")
        first, second = known[from_urn]["profile_id"], known[to_urn]["profile_id"]
        if first is None or first != second:
            return PathAnswer(False, None, [], "the aliases belong to different profiles")
        if from_urn == to_urn:
            return PathAnswer(True, Ref(first), [PathNode(node_id("alias", from_urn), "alias", from_urn)])
        rows = await self._rows("explain_path", **{"from": from_urn, "to": to_urn})
        if not rows:
            return PathAnswer(False, Ref(first), [], "no chain of evidence joins the aliases")
        steps: list[PathNode | PathLink] = []
        nodes, links = rows[0]["nodes"], rows[0]["links"]
        for i, node in enumerate(nodes):
            steps.append(PathNode(node_id(node["kind"], node["key"]), node["kind"], node["key"]))
            if i < len(links):
                link = links[i]
                kinds = {n["key"]: n["kind"] for n in nodes}
                steps.append(
                    PathLink(
                        link["kind"],
                        node_id(kinds[link["source"]], link["source"]),
                        node_id(kinds[link["target"]], link["target"]),
                        link["event_id"],
                    )
                )
        return PathAnswer(True, Ref(first), steps)

    async def merges(self, profile_id: str, limit: int) -> AuditList | None:
        resolved = await self.resolve(profile_id)
        if resolved is None:
            return None
        rows = await self._rows("explain_merges", profile_id=resolved[0], limit=limit)
        return AuditList(
            [
                AuditEntry(
                    r["id"], r["type"], native(r["time"]), msgspec.json.decode(r["properties_json"] or "{}")
                )
                for r in rows
            ]
        )
