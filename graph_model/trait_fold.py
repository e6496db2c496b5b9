"""Traits as a fold: a summary of a set of events that two summaries combine into the summary of the union.

Every trait is a commutative, associative fold over events (`graph_model.traits` is the definition):

- counts (`event_count`, `events_by_type`, `session_count`) add up;
- `first_seen` is a minimum and `last_seen` a maximum of event times;
- each trait input, `last_page`, `utm.last_touch` and `device` are the latest event by (time, id) that has
  one: a maximum; `utm.first_touch` is the earliest: a minimum.

So a summary is kept per anchor (a session, or a profile id handle for events bound to the profile directly)
and per profile (the combination of its anchors' summaries): ingestion folds each new event into both, a
merge combines two profiles' summaries, and a move recomputes the summaries of what moved. Minima and maxima
are idempotent; counts are not, which is why only events written for the first time are folded (the event
key deduplicates, and `fold_events` takes each event id once).

The summary is stored as flat node properties (`to_properties` / `from_properties`, all `tf_*`), so Cypher
can combine two of them in place inside a write transaction. A slot (the latest or earliest event for a key)
holds the event's time and id, and for a trait input its value (JSON text); `last_page`, the UTM touches and
the device are read from the slot's event when traits are answered (`traits_of`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import msgspec

from graph_model.traits import TraitEvent, device_trait, has_device, has_utm, page_trait, utm_trait

INPUT_PREFIX = "in:"  # latest-slot keys of trait inputs: "in:<key>"
PAGE, TOUCH, DEVICE = "page", "touch", "device"  # latest-slot keys; TOUCH is also the one earliest slot


class Slot(msgspec.Struct, frozen=True):
    time: datetime
    id: str
    value: str = ""  # JSON text of a trait input; "" for the slots read from their event

    def key(self) -> tuple[datetime, str]:
        return (self.time, self.id)


class TraitFold(msgspec.Struct, frozen=True, kw_only=True):
    """The summary of a set of events (and, for a profile, of its sessions)."""

    events: int = 0
    sessions: int = 0
    first: datetime | None = None
    last: Slot | None = None  # the latest event (value unused): pages walk anchors by it
    by_type: dict[str, int] = {}
    latest: dict[str, Slot] = {}
    earliest: dict[str, Slot] = {}


EMPTY = TraitFold()


def _later(a: Slot | None, b: Slot | None) -> Slot | None:
    if a is None:
        return b
    if b is None:
        return a
    return b if b.key() > a.key() else a


def _earlier(a: Slot | None, b: Slot | None) -> Slot | None:
    if a is None:
        return b
    if b is None:
        return a
    return b if b.key() < a.key() else a


def _min_time(a: datetime | None, b: datetime | None) -> datetime | None:
    if a is None:
        return b
    if b is None:
        return a
    return min(a, b)


def combine(a: TraitFold, b: TraitFold) -> TraitFold:
    """The summary of the union of two disjoint sets of events: commutative, associative, EMPTY its unit."""
    by_type = dict(a.by_type)
    for kind, n in b.by_type.items():
        by_type[kind] = by_type.get(kind, 0) + n
    latest = dict(a.latest)
    for key, slot in b.latest.items():
        latest[key] = _later(latest.get(key), slot)  # type: ignore[assignment]
    earliest = dict(a.earliest)
    for key, slot in b.earliest.items():
        earliest[key] = _earlier(earliest.get(key), slot)  # type: ignore[assignment]
    return TraitFold(
        events=a.events + b.events,
        sessions=a.sessions + b.sessions,
        first=_min_time(a.first, b.first),
        last=_later(a.last, b.last),
        by_type=dict(sorted(by_type.items())),
        latest=dict(sorted(latest.items())),
        earliest=dict(sorted(earliest.items())),
    )


def of_event(event: TraitEvent) -> TraitFold:
    """The summary of one event."""
    latest: dict[str, Slot] = {}
    for key, value in zip(event.trait_keys, event.trait_values, strict=True):
        latest.setdefault(INPUT_PREFIX + key, Slot(event.time, event.id, value))
    earliest: dict[str, Slot] = {}
    here = Slot(event.time, event.id)
    if event.fields.get("page_url") is not None:
        latest[PAGE] = here
    if has_utm(event.fields):
        latest[TOUCH] = here
        earliest[TOUCH] = here
    if has_device(event.fields):
        latest[DEVICE] = here
    return TraitFold(
        events=1,
        first=event.time,
        last=here,
        by_type={event.type: 1},
        latest=dict(sorted(latest.items())),
        earliest=earliest,
    )


def fold_all(folds: Iterable[TraitFold]) -> TraitFold:
    result = EMPTY
    for fold in folds:
        result = combine(result, fold)
    return result


def fold_events(events: Iterable[TraitEvent]) -> TraitFold:
    """The summary of a set of events; an event id seen again (a duplicate delivery) counts once."""
    seen: set[str] = set()
    result = EMPTY
    for event in events:
        if event.id in seen:
            continue
        seen.add(event.id)
        result = combine(result, of_event(event))
    return result


def as_session(fold: TraitFold) -> TraitFold:
    """A session's summary as its profile counts it: one session more."""
    return msgspec.structs.replace(fold, sessions=fold.sessions + 1)


def slot_event_ids(fold: TraitFold) -> list[str]:
    """The events whose enrichment properties `traits_of` reads: last page, UTM touches, device."""
    ids = {slot.id for key, slot in fold.latest.items() if not key.startswith(INPUT_PREFIX)}
    ids |= {slot.id for slot in fold.earliest.values()}
    return sorted(ids)


def traits_of(fold: TraitFold, slot_fields: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """The traits (the shape `graph_model.traits.compute_traits` answers) from a profile's summary and the
    enrichment properties of its slot events (by event id)."""
    traits: dict[str, Any] = {
        key[len(INPUT_PREFIX) :]: msgspec.json.decode(slot.value)
        for key, slot in fold.latest.items()
        if key.startswith(INPUT_PREFIX)
    }

    def fields(slot: Slot | None) -> Mapping[str, Any] | None:
        return None if slot is None else slot_fields.get(slot.id, {})

    page, last_touch = fields(fold.latest.get(PAGE)), fields(fold.latest.get(TOUCH))
    first_touch, device = fields(fold.earliest.get(TOUCH)), fields(fold.latest.get(DEVICE))
    traits.update(
        first_seen=fold.first,
        last_seen=fold.last.time if fold.last else None,
        event_count=fold.events,
        events_by_type=dict(sorted(fold.by_type.items())),
        session_count=fold.sessions,
        last_page=page_trait(page) if page is not None else None,
        utm={
            "first_touch": utm_trait(first_touch) if first_touch is not None else None,
            "last_touch": utm_trait(last_touch) if last_touch is not None else None,
        },
        device=device_trait(device) if device is not None else None,
    )
    return traits


# -- flat node properties ------------------------------------------------------------------------------------

PROPERTY_KEYS = (
    "tf_events",
    "tf_sessions",
    "tf_first",
    "tf_last",
    "tf_last_id",
    "tf_types",
    "tf_type_counts",
    "tf_lk",
    "tf_lt",
    "tf_li",
    "tf_lv",
    "tf_ek",
    "tf_et",
    "tf_ei",
    "tf_ev",
)


def _slot_lists(slots: Mapping[str, Slot]) -> tuple[list[str], list[datetime], list[str], list[str]]:
    keys = sorted(slots)
    return (
        keys,
        [slots[k].time for k in keys],
        [slots[k].id for k in keys],
        [slots[k].value for k in keys],
    )


def to_properties(fold: TraitFold) -> dict[str, Any]:
    """The summary as the flat properties a node stores (None removes one)."""
    lk, lt, li, lv = _slot_lists(fold.latest)
    ek, et, ei, ev = _slot_lists(fold.earliest)
    types = sorted(fold.by_type)
    return {
        "tf_events": fold.events,
        "tf_sessions": fold.sessions,
        "tf_first": fold.first,
        "tf_last": fold.last.time if fold.last else None,
        "tf_last_id": fold.last.id if fold.last else None,
        "tf_types": types,
        "tf_type_counts": [fold.by_type[t] for t in types],
        "tf_lk": lk,
        "tf_lt": lt,
        "tf_li": li,
        "tf_lv": lv,
        "tf_ek": ek,
        "tf_et": et,
        "tf_ei": ei,
        "tf_ev": ev,
    }


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def _slots(props: Mapping[str, Any], k: str, t: str, i: str, v: str) -> dict[str, Slot]:
    keys = props.get(k) or []
    times, ids, values = props.get(t) or [], props.get(i) or [], props.get(v) or []
    return {
        key: Slot(_native(times[n]), ids[n], values[n] if n < len(values) else "")
        for n, key in enumerate(keys)
    }


def from_properties(props: Mapping[str, Any]) -> TraitFold:
    """A node's stored summary (missing properties: the empty summary)."""
    last = props.get("tf_last")
    types = props.get("tf_types") or []
    counts = props.get("tf_type_counts") or []
    return TraitFold(
        events=int(props.get("tf_events") or 0),
        sessions=int(props.get("tf_sessions") or 0),
        first=_native(props.get("tf_first")),
        last=Slot(_native(last), props.get("tf_last_id") or "") if last is not None else None,
        by_type=dict(sorted(zip(types, (int(c) for c in counts), strict=True))),
        latest=dict(sorted(_slots(props, "tf_lk", "tf_lt", "tf_li", "tf_lv").items())),
        earliest=dict(sorted(_slots(props, "tf_ek", "tf_et", "tf_ei", "tf_ev").items())),
    )
