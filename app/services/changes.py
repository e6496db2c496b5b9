"""The identity change feed (`GET /changes`) and the webhook registry.

Every writer that changes identity writes its feed entries (`:Change` nodes) in its own transaction: ingestion
in `cypher/ingest_round.cypher` (step 6i), split, manual merge, rebuild and renormalize with their audit
records (`cypher/changes_from_system_events.cypher`), erasure in its last transaction
(`changes_erase_begin`, `changes_record_erased`). No counter is shared between transactions.

Order. An entry's position (`seq`) begins with the server's clock read by the statement that writes it,
after the transaction holds the locks of the profiles it changes. Two transactions that change one profile
both hold its lock when they read the clock, so the second reads it after the first committed: a profile's
changes are in commit order. Transactions with no profile in common take their clock readings in any order
and nothing orders them anyway.

Never skipping. A transaction can read its clock, then commit after a later one has committed and been
read. So a page only goes up to the watermark: the start of the oldest transaction still open on the server
(`SHOW TRANSACTIONS`, `cypher/changes_watermark.cypher`), less a small margin. A change not yet committed
was written by an open transaction after it began, so it sorts after the watermark; a page that stops there
has every change before it, and none shows up behind a consumer's cursor later. The cost is a delay of the
longest open transaction, paid by readers of the feed, not by writers.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from app.store.repository import GraphRepository
from graph_model.changes import (
    CHANGE_TYPES,
    BadCursor,
    change_item,
    decode_cursor,
    encode_cursor,
    host_allowed,
    new_secret,
    stamp,
    stamp_time,
)
from graph_model.errors import DomainError, FieldError, InvalidInput, MalformedInput

PURGE_BATCH = 1000


class CursorExpired(DomainError):
    """A cursor from before the retention: the changes after it may have been purged (410)."""


class ChangePage(msgspec.Struct):
    items: list[dict[str, Any]]
    next_cursor: str


class FeedPage(msgspec.Struct):
    """A page at positions, for the delivery worker: the rows and where the next page starts."""

    items: list[dict[str, Any]]
    next_seq: str


def _native(value: Any) -> Any:
    return value.to_native() if hasattr(value, "to_native") else value


def _iso(value: Any) -> str | None:
    value = _native(value)
    return value.isoformat() if isinstance(value, datetime) else value


def _item(row: dict[str, Any]) -> dict[str, Any]:
    row = dict(row, at=_iso(row["at"]))
    event = row.get("event")
    if event is not None:
        properties = event.get("properties_json")
        row["event"] = {
            "id": event["id"],
            "type": event["type"],
            "time": _iso(event["time"]),
            "source_id": event["source_id"],
            "properties": msgspec.json.decode(properties) if properties else {},
        }
    return change_item(row)


class ChangeFeed:
    def __init__(self, store: GraphRepository, retention_days: int, settle_seconds: float) -> None:
        store.catalog.require(
            "changes_watermark",
            "changes_page",
            "changes_purge",
            "changes_from_system_events",
            "changes_erase_begin",
            "changes_record_erased",
        )
        self._store = store
        self.retention_days = retention_days
        self._settle = timedelta(seconds=settle_seconds)

    async def watermark(self) -> str:
        """The position every change not yet committed sorts after (on the writer, where they are open)."""
        rows = await self._store.write("changes_watermark")
        oldest = _native(rows[0]["oldest"])
        return stamp(oldest - self._settle)

    async def positions(
        self, after: str, *, limit: int, types: list[str], event_types: list[str]
    ) -> FeedPage:
        """Changes after position `after`, up to the watermark: `next_seq` is the last one's position, or
        the watermark when the page is not full (nothing before it is still to come)."""
        before = await self.watermark()
        rows = await self._store.write(
            "changes_page", after=after, before=before, types=types, event_types=event_types, limit=limit
        )
        items = [_item(r) for r in rows]
        if len(items) == limit:
            return FeedPage(items, items[-1]["seq"])
        return FeedPage(items, max(before, after))

    async def page(self, *, after: str | None, limit: int, types: list[str] | None) -> ChangePage:
        """GET /changes: a cursor it handed out (or none: the oldest change kept), identity changes only."""
        try:
            seq = decode_cursor(after) if after else ""
        except BadCursor:
            raise MalformedInput("after: not a cursor GET /changes returned") from None
        if seq and stamp_time(seq) < datetime.now(UTC) - timedelta(days=self.retention_days):
            raise CursorExpired(
                f"the cursor is older than the change retention ({self.retention_days} days);"
                " start again without `after`"
            )
        unknown = sorted(set(types or ()) - set(CHANGE_TYPES))
        if unknown:
            raise MalformedInput(f"types: unknown change types {unknown}; known: {list(CHANGE_TYPES)}")
        page = await self.positions(seq, limit=limit, types=list(types or CHANGE_TYPES), event_types=[])
        return ChangePage(page.items, encode_cursor(page.next_seq))

    async def purge(self, now: datetime | None = None) -> int:
        """Delete the changes older than the retention, in bounded transactions; how many."""
        before = stamp((now or datetime.now(UTC)) - timedelta(days=self.retention_days))
        total = 0
        while True:
            rows = await self._store.write("changes_purge", before=before, limit=PURGE_BATCH)
            deleted = int(rows[0]["deleted"]) if rows else 0
            total += deleted
            if deleted < PURGE_BATCH:
                return total


# -- the webhook registry ---------------------------------------------------------------------------------


class Webhook(msgspec.Struct, omit_defaults=True):
    id: str
    url: str
    types: list[str]
    event_types: list[str]
    created_at: datetime | None = None
    secret: str | None = None  # answered once, when it is registered


class WebhookPage(msgspec.Struct):
    items: list[Webhook]


class Delivery(msgspec.Struct):
    id: str
    delivery_id: str
    seq: str
    change_type: str
    profile_id: str | None
    attempt: int
    outcome: str  # delivered | failed (retried) | abandoned
    status_code: int | None
    error: str | None
    duration_ms: float
    at: datetime


class DeliveryPage(msgspec.Struct):
    items: list[Delivery]


class WebhookRegistry:
    def __init__(self, store: GraphRepository, allowed_hosts: tuple[str, ...]) -> None:
        store.catalog.require(
            "webhook_create", "webhook_list", "webhook_delete", "webhook_deliveries", "webhook_exists"
        )
        self._store = store
        self._allowed = allowed_hosts

    async def register(
        self, url: str, types: list[str], event_types: list[str], secret: str | None
    ) -> Webhook:
        errors = []
        if not host_allowed(url, self._allowed):
            message = "must be http(s) to a host in IDGRAPH_WEBHOOK_ALLOWED_HOSTS (no credentials)"
            errors.append(FieldError("$.url", message))
        unknown = sorted(set(types) - set(CHANGE_TYPES))
        if unknown:
            known = list(CHANGE_TYPES)
            errors.append(FieldError("$.types", f"unknown change types {unknown}; known: {known}"))
        if not types and not event_types:
            errors.append(FieldError("$.types", "name at least one change type or event type"))
        if errors:
            raise InvalidInput(errors)
        secret = secret or new_secret()
        rows = await self._store.write(
            "webhook_create",
            id=str(uuid.uuid4()),
            url=url,
            types=sorted(set(types)),
            event_types=sorted(set(event_types)),
            secret=secret,
        )
        row = rows[0]
        return Webhook(
            row["id"], row["url"], row["types"], row["event_types"], _native(row["created_at"]), secret
        )

    async def list(self) -> WebhookPage:
        rows = await self._store.read("webhook_list")
        return WebhookPage(
            [Webhook(r["id"], r["url"], r["types"], r["event_types"], _native(r["created_at"])) for r in rows]
        )

    async def delete(self, webhook_id: str) -> bool:
        return bool(await self._store.write("webhook_delete", id=webhook_id))

    async def deliveries(self, webhook_id: str, limit: int) -> DeliveryPage | None:
        if not await self._store.read("webhook_exists", id=webhook_id):
            return None
        rows = await self._store.read("webhook_deliveries", webhook_id=webhook_id, limit=limit)
        return DeliveryPage([msgspec.convert(dict(r, at=_native(r["at"])), Delivery) for r in rows])
