"""Traits from a profile's events, in plain Python: the reference the Cypher traversal is checked against.

`GET /profiles/{id}` computes traits in Neo4j (`cypher/profile_traits.cypher`) from the flat properties
enrichment stored on each event. `idgraph traits verify` and the tests compute them again here, from the raw
events (properties, context, the client's user agent) with enrichment run afresh, and compare. Both follow
the same rules:

- each trait input key takes its value from the latest event (by event time, ties by event id) that set it;
- `last_page` is the page URL and referrer of the latest event that has a page URL;
- `utm.first_touch` / `utm.last_touch` are the UTM parameters of the earliest / latest event whose page URL
  carries any;
- `device` is browser, OS and device type of the latest event whose user agent names them;
- `first_seen`, `last_seen`, `event_count`, `events_by_type` count every event bound to the profile (through
  its sessions or its id handles); system events (`profile-merged`, ...) are not bound, so never count.

Computed keys win over a trait input of the same name.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import msgspec

from graph_model.enrichment import UTM_KEYS, ClientInfo, event_fields

COMPUTED_KEYS = (
    "first_seen",
    "last_seen",
    "event_count",
    "events_by_type",
    "session_count",
    "last_page",
    "utm",
    "device",
)


class TraitEvent(msgspec.Struct, frozen=True, kw_only=True):
    """What trait computation needs of one stored event."""

    id: str
    type: str
    time: datetime
    trait_keys: list[str] = []
    trait_values: list[str] = []  # JSON text, one per key
    fields: dict[str, Any] = {}  # the enrichment properties (graph_model.enrichment.event_fields)


def recompute_fields(
    properties: Mapping[str, Any], context: Mapping[str, Any], user_agent: str | None, client_ip: str | None
) -> dict[str, Any]:
    """Enrichment again from what the event stored (its stored user agent stands in for the request's)."""
    return event_fields(properties, context, ClientInfo(user_agent=user_agent, ip=client_ip))


def page_trait(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {"url": fields.get("page_url"), "referrer": fields.get("page_referrer")}


def utm_trait(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {key: fields.get(f"utm_{key}") for key in UTM_KEYS}


def device_trait(fields: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "browser": fields.get("ua_browser"),
        "browser_version": fields.get("ua_browser_version"),
        "os": fields.get("ua_os"),
        "os_version": fields.get("ua_os_version"),
        "type": fields.get("ua_device"),
    }


def has_utm(fields: Mapping[str, Any]) -> bool:
    return any(fields.get(f"utm_{key}") is not None for key in UTM_KEYS)


def has_device(fields: Mapping[str, Any]) -> bool:
    return fields.get("ua_browser") is not None or fields.get("ua_os") is not None


def compute_traits(events: Iterable[TraitEvent], session_count: int) -> dict[str, Any]:
    newest_first = sorted(events, key=lambda e: (e.time, e.id), reverse=True)
    traits: dict[str, Any] = {}
    for event in newest_first:
        for key, value in zip(event.trait_keys, event.trait_values, strict=True):
            if key not in traits:
                traits[key] = msgspec.json.decode(value)
    page = next((e for e in newest_first if e.fields.get("page_url") is not None), None)
    touches = [e for e in newest_first if has_utm(e.fields)]
    device = next((e for e in newest_first if has_device(e.fields)), None)
    traits.update(
        first_seen=newest_first[-1].time if newest_first else None,
        last_seen=newest_first[0].time if newest_first else None,
        event_count=len(newest_first),
        events_by_type=dict(sorted(Counter(e.type for e in newest_first).items())),
        session_count=session_count,
        last_page=page_trait(page.fields) if page else None,
        utm={
            "first_touch": utm_trait(touches[-1].fields) if touches else None,
            "last_touch": utm_trait(touches[0].fields) if touches else None,
        },
        device=device_trait(device.fields) if device else None,
    )
    return traits
