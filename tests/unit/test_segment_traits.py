"""The Segment dialect's user traits (API.md, Ingestion 6; issue 22): `traits` and `context.traits` are both
trait input and identifier sources, on identify and on every other message that carries them. RudderStack's
SDKs send identify traits only under `context.traits`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from app.dialects.segment import Message, to_batches
from graph_model.events import CanonicalEvent
from graph_model.urn import AliasUrn

RECEIVED = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


def translate(message: dict[str, Any], batch_context: dict[str, Any] | None = None) -> CanonicalEvent:
    (batch,) = to_batches(
        [msgspec.convert(message, Message)],
        source_id="src",
        batch_context=batch_context or {},
        received_at=RECEIVED,
        blocked=(),
        max_events=10,
        paths=["$"],
    )
    return batch.events[0]


def test_identify_traits_under_context_traits_are_aliases_and_trait_input() -> None:
    """What rudder-sdk-python 2.1.9 sends: no top-level `traits`."""
    ev = translate(
        {
            "type": "identify",
            "userId": "u1",
            "context": {"traits": {"email": "Ann@X.io", "phone": "+49 30 1234567", "plan": "pro"}},
        }
    )
    assert set(ev.aliases) == {
        AliasUrn("user_id", "u1"),
        AliasUrn("email", "ann@x.io"),
        AliasUrn("phone", "+49301234567"),
    }
    assert ev.trait_inputs == {"email": "Ann@X.io", "phone": "+49 30 1234567", "plan": "pro"}
    assert ev.properties == ev.trait_inputs


def test_message_traits_win_over_context_traits() -> None:
    ev = translate(
        {
            "type": "identify",
            "anonymousId": "a1",
            "traits": {"plan": "pro", "cellphone": "+44 7700 900123"},
            "context": {"traits": {"plan": "free", "customer_id": "C-1"}},
        }
    )
    assert ev.trait_inputs == {"plan": "pro", "customer_id": "C-1", "cellphone": "+44 7700 900123"}
    assert AliasUrn("customer_id", "C-1") in ev.aliases and AliasUrn("phone", "+447700900123") in ev.aliases


@pytest.mark.parametrize("kind", ["track", "page", "screen", "alias"])
def test_every_message_type_takes_user_traits(kind: str) -> None:
    message: dict[str, Any] = {
        "type": kind,
        "userId": "u1",
        "event": "Clicked",
        "previousId": "a0",
        "context": {"traits": {"phone": "0049 (30) 1234-567", "plan": "pro"}},
    }
    ev = translate(message)
    assert AliasUrn("phone", "+49301234567") in ev.aliases
    assert ev.trait_inputs == {"phone": "0049 (30) 1234-567", "plan": "pro"}


def test_batch_context_traits_count_for_each_message() -> None:
    ev = translate({"type": "track", "anonymousId": "a", "event": "X"}, {"traits": {"email": "b@x.io"}})
    assert AliasUrn("email", "b@x.io") in ev.aliases and ev.trait_inputs == {"email": "b@x.io"}


def test_group_traits_describe_the_group_not_the_user() -> None:
    ev = translate(
        {
            "type": "group",
            "userId": "u1",
            "groupId": "acme",
            "traits": {"email": "team@acme.io", "plan": "enterprise"},
            "context": {"traits": {"email": "ann@x.io"}},
        }
    )
    assert AliasUrn("email", "team@acme.io") not in ev.aliases
    assert AliasUrn("email", "ann@x.io") in ev.aliases
    assert ev.trait_inputs == {"email": "ann@x.io"}
    assert ev.properties == {"email": "team@acme.io", "plan": "enterprise", "groupId": "acme"}


def test_unparsable_phone_trait_is_kept_as_a_trait_but_identifies_nobody() -> None:
    ev = translate({"type": "identify", "userId": "u1", "traits": {"phone": "ask reception"}})
    assert ev.aliases == [AliasUrn("user_id", "u1")]
    assert ev.trait_inputs == {"phone": "ask reception"}
