"""The raw baseline for /track: anonymous visitors, new or returning, as request bodies for the API and as the
parameters of one hand-written UNWIND statement (bench/ingest_cypher/raw_track.cypher) that writes the same
graph delta straight through the driver.

A visitor is a session with one device alias (`urn:anonymous_id`); a visit is `batch` page views. The first
visit of a visitor creates the session, the alias, a profile and its id handle, and the change feed's
profile-created entry naming the alias; a later visit of the same visitor adds events to the known session
and widens its and the alias's first/last seen. Every visit folds its events into the session's and the
profile's traits summary (the tf_* properties).

The parameters are what the API's own request would carry, built the way a client would: ISO 8601 text for
every time (the app sends its times as text too; the driver's packing of `datetime` values costs more), and
the enrichment of each event (`graph_model.enrichment.event_fields`, the pure function the API applies) for
the same client (no user agent, the peer's IP protected the default way). tests/api/test_raw_baseline.py
checks that both leave the same graph.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from app.store.catalog import QueryCatalog
from graph_model.enrichment import ClientInfo, event_fields, protect_ip

__all__ = ["RAW", "RAW_STATEMENT", "Visitor", "loopback_client", "raw_params", "track_body"]

RAW = QueryCatalog("bench.ingest_cypher")
RAW_STATEMENT = "raw_track"
PAGES = ["https://shop.example/", "https://shop.example/catalog?utm_source=news", "https://shop.example/cart"]
T0 = datetime(2026, 3, 1, tzinfo=UTC)
_json = msgspec.json.Encoder()


def loopback_client(user_agent: str | None = None) -> ClientInfo:
    """What the API sees of a client on 127.0.0.1 sending `user_agent` (bench/loadgen.py sends none), the IP
    protected the default way."""
    return ClientInfo(user_agent=user_agent, ip=protect_ip("127.0.0.1", "truncate"))


@dataclass
class Visitor:
    """One anonymous visitor: a session and a device id; each `visit()` is `batch` new page views, later in
    time than the last."""

    batch: int
    tag: str = field(default_factory=lambda: uuid.uuid4().hex)
    visits: int = 0

    @property
    def session(self) -> str:
        return f"s-{self.tag}"

    @property
    def urn(self) -> str:
        return f"urn:anonymous_id:d-{self.tag}"

    def visit(self) -> list[dict[str, Any]]:
        n, self.visits = self.visits, self.visits + 1
        return [
            {
                "id": f"e-{self.tag}-{n}-{i}",
                "time": (T0 + timedelta(hours=n, seconds=i)).isoformat(),
                "url": PAGES[i % len(PAGES)],
            }
            for i in range(self.batch)
        ]


def track_body(source_id: str, visitor: Visitor, events: list[dict[str, Any]]) -> bytes:
    """The POST /track body of one visit."""
    return _json.encode(
        {
            "source": {"id": source_id},
            "session": {"id": visitor.session},
            "events": [
                {"type": "page-view", "id": e["id"], "time": e["time"], "properties": {"url": e["url"]}}
                for e in events
            ],
            "aliases": [visitor.urn],
        }
    )


def raw_params(
    source_id: str, visitor: Visitor, events: list[dict[str, Any]], client: ClientInfo
) -> dict[str, Any]:
    """The parameters of raw_track.cypher for the same visit."""
    now = datetime.now(UTC).isoformat()
    docs = []
    for e in events:
        props = {"url": e["url"]}
        docs.append(
            {
                "id": str(uuid.uuid4()),
                "key": f"{source_id}|ext|{e['id']}",
                "type": "page-view",
                "time": e["time"],
                "received_at": now,
                "external_id": e["id"],
                "properties_json": _json.encode(props).decode(),
                "context_json": "{}",
                "trait_keys": [],
                "trait_values": [],
                "enriched": event_fields(props, {}, client),
            }
        )
    times = sorted(e["time"] for e in events)  # ISO text of one offset sorts as time does
    return {
        "source_id": source_id,
        "dialect": "tracardi",
        "now": now,
        "request_id": f"{uuid.uuid4()}/0",
        "session": {"id": visitor.session, "first_seen": times[0], "last_seen": times[-1]},
        "aliases": [
            {
                "urn": visitor.urn,
                "type": "anonymous_id",
                "value": visitor.urn.rsplit(":", 1)[1],
                "first_seen": times[0],
                "last_seen": times[-1],
            }
        ],
        "events": docs,
        "new_profile_id": str(uuid.uuid4()),
    }
