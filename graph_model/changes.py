"""The identity change feed and its webhooks, the pure part: change types, feed positions, cursors, what each
change says, signatures, the allow-list of webhook hosts and the retry schedule.

A change's position (`seq`) is text that sorts in commit order: 16 digits of the server's clock in
microseconds, read by the statement that writes the change once it holds the locks of the profiles it
changes, then a digit for the kind of change (the order of changes one transaction makes) and a unique id.
Why that is commit order for every profile, and why a reader never skips one, is in the README (Changes and
webhooks) and in `app/services/changes.py`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import random
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

# The identity changes, in the order one transaction's changes are listed (the digit after the clock).
CHANGE_TYPES: tuple[str, ...] = (
    "profile-created",
    "alias-added",
    "merge-refused",
    "profile-merged",
    "profile-split",
    "alias-blocked",
    "profile-erased",
)
# A stored behavioural event a webhook asked for (`event_types`): delivered, never listed by GET /changes.
EVENT_CHANGE = "event"

_STAMP_DIGITS = 16
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_CURSOR_PREFIX = "c1:"


class BadCursor(ValueError):
    """Not a cursor the feed handed out."""


def stamp(at: datetime) -> str:
    """The feed position of a clock reading: every change written at or after `at` sorts after it, every one
    written before sorts before it (the same text `cypher/changes_*.cypher` writes)."""
    micros = (at.astimezone(UTC) - _EPOCH) // timedelta(microseconds=1)
    return str(max(micros, 0)).rjust(_STAMP_DIGITS, "0")


def stamp_time(seq: str) -> datetime:
    """The clock reading a position begins with."""
    return _EPOCH + timedelta(microseconds=int(seq[:_STAMP_DIGITS]))


def encode_cursor(seq: str) -> str:
    return base64.urlsafe_b64encode((_CURSOR_PREFIX + seq).encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> str:
    """The position a cursor stands for ("" for the start of the feed)."""
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise BadCursor(cursor) from None
    if not text.startswith(_CURSOR_PREFIX):
        raise BadCursor(cursor)
    seq = text[len(_CURSOR_PREFIX) :]
    if seq and (len(seq) < _STAMP_DIGITS or not seq[:_STAMP_DIGITS].isdigit() or len(seq) > 80):
        raise BadCursor(cursor)
    return seq


# What each change says besides seq, type, at and profile_id: the keys kept from its audit details. Nothing
# else of an audit record reaches the feed.
_DETAIL_KEYS: dict[str, tuple[str, ...]] = {
    "profile-merged": ("survivor_id", "manual", "reason", "linking_event_id"),
    "profile-split": ("split_profile_id", "reason", "alias"),
    "merge-refused": ("alias", "alias_profile_id", "alias_type", "limit", "rule", "linking_event_id"),
    "alias-blocked": ("alias",),
}


def change_item(row: Mapping[str, Any]) -> dict[str, Any]:
    """One feed entry as the API answers it, from a row of `cypher/changes_page.cypher`."""
    kind = row["type"]
    item: dict[str, Any] = {
        "seq": row["seq"],
        "type": kind,
        "at": row["at"],
        "profile_id": row["profile_id"],
    }
    details = json.loads(row["details_json"]) if row.get("details_json") else {}
    for key in _DETAIL_KEYS.get(kind, ()):
        if key in details:
            item[key] = details[key]
    if kind == "profile-merged":
        item["survivor_id"] = row["profile_id"]
        item["merged_ids"] = [details["merged_id"]] if "merged_id" in details else []
    elif kind in ("profile-created", "alias-added"):
        item["aliases"] = sorted(row.get("aliases") or [])
    elif kind == "profile-erased":
        item["erased_ids"] = sorted(row.get("erased_ids") or [])
    elif kind == EVENT_CHANGE:
        item["event_type"] = row.get("event_type")
        item["event"] = row.get("event")
    return item


# -- webhooks --------------------------------------------------------------------------------------------


def delivery_id(webhook_id: str, seq: str) -> str:
    """The same id for every attempt at one change to one webhook, across restarts: a receiver deduplicates
    on it."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"idgraph:webhook:{webhook_id}:{seq}"))


def signature(secret: str, body: bytes) -> str:
    """The X-Idgraph-Signature header: `sha256=` and the hex HMAC-SHA256 of the body under the secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def new_secret() -> str:
    return "whsec_" + base64.urlsafe_b64encode(uuid.uuid4().bytes + uuid.uuid4().bytes).decode().rstrip("=")


def host_allowed(url: str, allowed: Iterable[str]) -> bool:
    """Whether `url` is http(s) to a host on the allow-list: an entry `host` allows any port of it,
    `host:port` that port only. Names compare without case; nothing is resolved, so a name on the list is
    the operator's decision about where it points."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return False
    host = (parts.hostname or "").lower()
    if parts.scheme not in ("http", "https") or not host or parts.username or parts.password:
        return False
    port = port or (443 if parts.scheme == "https" else 80)
    for entry in allowed:
        entry = entry.strip().lower()
        if not entry:
            continue
        name, sep, entry_port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "")
        if sep:
            if name == host and entry_port == str(port):
                return True
        elif entry.strip("[]") == host:
            return True
    return False


def backoff_seconds(attempt: int, first: float, cap: float, rng: random.Random | None = None) -> float:
    """How long to wait after failed attempt number `attempt` (1-based): `first` doubled each time up to
    `cap`, with a jitter of ±25% so receivers that came back are not hit by every sender at once."""
    base = min(cap, first * (2 ** max(attempt - 1, 0)))
    return base * (0.75 + 0.5 * (rng or random).random())
