"""The change feed's pure part (graph_model/changes.py): positions, cursors, what a change says,
signatures, the webhook host allow-list and the retry schedule."""

from __future__ import annotations

import hashlib
import hmac
import json
import random
from datetime import UTC, datetime, timedelta

import pytest

from app.settings import SettingsError, load_settings
from graph_model.changes import (
    BadCursor,
    backoff_seconds,
    change_item,
    decode_cursor,
    delivery_id,
    encode_cursor,
    host_allowed,
    signature,
    stamp,
    stamp_time,
)


def test_positions_sort_as_the_clock_and_cursors_round_trip() -> None:
    t = datetime(2026, 3, 1, 12, 0, 0, 123456, tzinfo=UTC)
    later = t + timedelta(microseconds=1)
    assert stamp(t) < stamp(later) and len(stamp(t)) == 16
    assert stamp_time(stamp(t) + "1-abc") == t
    # What cypher/changes_*.cypher writes: 16 digits of microseconds, the kind's digit, a unique id.
    seq = stamp(t) + "4-" + "0" * 36
    assert decode_cursor(encode_cursor(seq)) == seq
    assert decode_cursor(encode_cursor("")) == ""
    for bad in ("not-a-cursor!", "Zm9vOmJhcg", encode_cursor("x" * 20).replace("c1", "c9"), "YzE6YWJj"):
        with pytest.raises(BadCursor):
            decode_cursor(bad)


def test_a_change_says_its_own_fields_and_nothing_else_of_the_audit() -> None:
    base = {"seq": "1", "at": "2026-01-01T00:00:00+00:00", "profile_id": "S"}
    details = {"survivor_id": "S", "merged_id": "M", "aliases": ["urn:email:a@x.io"], "linking_event_id": "e"}
    merged = change_item(base | {"type": "profile-merged", "details_json": json.dumps(details)})
    assert merged["survivor_id"] == "S" and merged["merged_ids"] == ["M"] and "aliases" not in merged
    erased = change_item(base | {"type": "profile-erased", "erased_ids": ["S", "M"]})
    assert set(erased) == {"seq", "type", "at", "profile_id", "erased_ids"}
    created = change_item(base | {"type": "profile-created", "aliases": ["urn:b", "urn:a"]})
    assert created["aliases"] == ["urn:a", "urn:b"]


def test_signature_is_the_hex_hmac_sha256_of_the_body() -> None:
    body = b'{"delivery_id":"d"}'
    assert signature("s3cret", body) == "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()
    assert delivery_id("w", "1") == delivery_id("w", "1") != delivery_id("w", "2")


@pytest.mark.parametrize(
    ("url", "allowed", "ok"),
    [
        ("https://hooks.example.com/x", ["hooks.example.com"], True),
        ("https://HOOKS.example.com:8443/x", ["hooks.example.com"], True),
        ("https://hooks.example.com:8443/x", ["hooks.example.com:443"], False),
        ("https://hooks.example.com/x", ["hooks.example.com:443"], True),
        ("http://127.0.0.1:9000/x", ["127.0.0.1"], True),
        ("http://10.0.0.1/x", ["127.0.0.1"], False),
        ("http://evil.example.com/x", ["example.com"], False),
        ("http://user:pw@hooks.example.com/x", ["hooks.example.com"], False),
        ("ftp://hooks.example.com/x", ["hooks.example.com"], False),
        ("http://[::1]:80/x", ["[::1]"], True),
        ("http://hooks.example.com/x", [], False),
        ("not a url", ["hooks.example.com"], False),
    ],
)
def test_only_allowed_hosts(url: str, allowed: list[str], ok: bool) -> None:
    assert host_allowed(url, allowed) is ok


def test_backoff_doubles_from_about_a_second_with_jitter_and_a_cap() -> None:
    rng = random.Random(1)
    firsts = [backoff_seconds(1, 1.0, 300.0, rng) for _ in range(200)]
    assert min(firsts) >= 0.75 and max(firsts) <= 1.25
    assert len({round(f, 3) for f in firsts}) > 100, "jittered"
    assert 3.0 <= backoff_seconds(3, 1.0, 300.0, rng) <= 5.0
    assert backoff_seconds(30, 1.0, 300.0, rng) <= 375.0


def test_change_feed_settings() -> None:
    defaults = load_settings({})
    assert defaults.changes_retention_days == 30 and defaults.webhook_retry_hours == 24.0
    assert defaults.webhook_backoff_seconds == 1.0 and defaults.webhook_allowed_hosts == ()
    assert defaults.webhook_delivery is True
    s = load_settings({"IDGRAPH_WEBHOOK_ALLOWED_HOSTS": " Hooks.example.com , 127.0.0.1:9000,"})
    assert s.webhook_allowed_hosts == ("hooks.example.com", "127.0.0.1:9000")
    assert load_settings({"IDGRAPH_WEBHOOK_DELIVERY": "off"}).webhook_delivery is False
    for env in (
        {"IDGRAPH_CHANGES_RETENTION_DAYS": "0"},
        {"IDGRAPH_WEBHOOK_LEASE_SECONDS": "5", "IDGRAPH_WEBHOOK_TIMEOUT_SECONDS": "10"},
        {"IDGRAPH_WEBHOOK_BACKOFF_SECONDS": "0"},
        {"IDGRAPH_WEBHOOK_DELIVERY": "maybe"},
    ):
        with pytest.raises(SettingsError):
            load_settings(env)
