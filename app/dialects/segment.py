"""The Segment tracking API: `POST /v1/batch` and `POST /v1/identify|track|page|screen|group|alias`.

Wire models follow Segment's HTTP Tracking API spec. Each message becomes one canonical batch; all the
messages of a request are written in one transaction, so a request is taken whole or not at all.

Identity: `userId` -> `urn:user_id`, `anonymousId` -> `urn:anonymous_id`; the user's traits, `traits` and
`context.traits` (RudderStack's SDKs send identify traits only there), are trait input and their PII keys
(`email`, `phone`, ... : graph_model.pii) become aliases, on every message type. A `group` message's
`traits` describe the group, so they are its properties only; its `context.traits` are the user's as
anywhere else. An `alias` message links `previousId` with `userId`; `previousId` is read as an anonymous id
(`urn:anonymous_id`), which is what Segment's clients send it as (the id the user had before `identify`).
Linking two *user* ids is exactly the merge the default limit of one `user_id` per profile refuses, so
nothing is lost by that reading.

Time: Segment's clock-skew correction. A message's `timestamp` and its batch's `sentAt` come from the same
device clock, so the message happened `sentAt - timestamp` before the server received it (API.md); the
`timestamp` as sent is kept in the event's `context.segment.originalTimestamp`. An import of old messages
(`idgraph import`) is not received now and takes `timestamp` as it is.

Sessions: Segment has none, and idgraph does not invent one. A message is written with no session, so its
event binds to the profile through the profile's id handle, and its aliases are linked there; the aliases
carried by one message (userId + anonymousId + email) are what join a person's messages into one profile.
`session_count` therefore does not count Segment traffic.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Annotated, Any, Literal, cast

import msgspec

from app.dialects.common import event_time, event_type, external_id
from graph_model.errors import FieldError, InvalidInput, MalformedInput, invalid
from graph_model.events import CanonicalEvent, IngestBatch, parse_event_time, sent_at_corrected
from graph_model.pii import aliases_from_properties, is_blocked
from graph_model.urn import AliasUrn, InvalidUrn, make_alias

MessageType = Literal["identify", "track", "page", "screen", "group", "alias"]
Id = Annotated[str, msgspec.Meta(max_length=256)] | int


class Message(msgspec.Struct, rename="camel"):
    type: MessageType | None = None
    user_id: Id | None = None
    anonymous_id: Id | None = None
    previous_id: Id | None = None
    group_id: Id | None = None
    message_id: Id | None = None
    event: str | None = None
    name: str | None = None
    category: str | None = None
    properties: dict[str, Any] = msgspec.field(default_factory=dict)
    traits: dict[str, Any] = msgspec.field(default_factory=dict)
    context: dict[str, Any] = msgspec.field(default_factory=dict)
    integrations: dict[str, Any] = msgspec.field(default_factory=dict)
    timestamp: str | int | float | None = None
    sent_at: str | None = None
    write_key: str | None = None


class Batch(msgspec.Struct, rename="camel"):
    batch: list[Message]
    context: dict[str, Any] = msgspec.field(default_factory=dict)
    integrations: dict[str, Any] = msgspec.field(default_factory=dict)
    write_key: str | None = None
    sent_at: str | None = None


_path_marker = " - at `"


def _decode_error(exc: msgspec.ValidationError) -> MalformedInput | InvalidInput:
    text = str(exc)
    message, _, rest = text.partition(_path_marker)
    path = rest.rstrip("`") if rest else "$"
    if path == "$" and message.startswith("Expected `object`"):
        return MalformedInput("the request body must be a JSON object")
    return invalid(path, message)


def decode_batch(body: bytes) -> Batch:
    try:
        return msgspec.json.decode(body, type=Batch)
    except msgspec.ValidationError as exc:
        raise _decode_error(exc) from None
    except msgspec.DecodeError as exc:
        raise MalformedInput(f"malformed JSON: {exc}") from None


def decode_message(body: bytes, kind: str) -> Message:
    """A single-message endpoint: the path names the type (a body `type` that disagrees is a 422)."""
    try:
        message = msgspec.json.decode(body, type=Message)
    except msgspec.ValidationError as exc:
        raise _decode_error(exc) from None
    except msgspec.DecodeError as exc:
        raise MalformedInput(f"malformed JSON: {exc}") from None
    if message.type is not None and message.type != kind:
        raise invalid("$.type", f"must be {kind!r} on /v1/{kind}")
    message.type = cast(MessageType, kind)
    return message


def _text(raw: str | int | None) -> str | None:
    if raw is None:
        return None
    text = str(raw).strip()
    return text or None


def _alias(alias_type: str, raw: str | int | None, blocked: frozenset[str]) -> list[AliasUrn]:
    text = _text(raw)
    if text is None or is_blocked(text, blocked):
        return []
    try:
        alias = make_alias(alias_type, text)
    except InvalidUrn:
        return []
    return [] if is_blocked(alias.value, blocked) else [alias]


def _validate(message: Message, path: str) -> list[FieldError]:
    errors = []
    if message.type is None:
        errors.append(FieldError(f"{path}.type", "is required"))
    if message.type == "alias":
        if _text(message.user_id) is None:
            errors.append(FieldError(f"{path}.userId", "is required for alias"))
        if _text(message.previous_id) is None:
            errors.append(FieldError(f"{path}.previousId", "is required for alias"))
    elif _text(message.user_id) is None and _text(message.anonymous_id) is None:
        errors.append(FieldError(f"{path}.userId", "userId or anonymousId is required"))
    if message.type == "track" and not (message.event or "").strip():
        errors.append(FieldError(f"{path}.event", "is required for track"))
    if message.type == "group" and _text(message.group_id) is None:
        errors.append(FieldError(f"{path}.groupId", "is required for group"))
    return errors


def _event_type(message: Message) -> str:
    if message.type == "track" and message.event:
        return message.event
    return str(message.type)


def user_traits(message: Message, context: dict[str, Any]) -> dict[str, Any]:
    """The user's traits a message carries: `context.traits`, with the message's own `traits` over them
    (except a group's, which are the group's)."""
    from_context = context.get("traits")
    traits = dict(from_context) if isinstance(from_context, dict) else {}
    if message.type != "group":
        traits.update(message.traits)
    return traits


def _properties(message: Message, traits: dict[str, Any]) -> dict[str, Any]:
    if message.type == "identify":
        props = dict(traits)
    elif message.type == "group":
        props = dict(message.traits)
    else:
        props = dict(message.properties)
    for key, value in (("name", message.name), ("category", message.category), ("groupId", message.group_id)):
        if value is not None and key not in props:
            props[key] = value
    return props


def _sent_at(raw: str | None, received_at: datetime) -> datetime | None:
    """A `sentAt` as a time; None when absent or unreadable (then the message's time is taken as sent: a
    clock hint is no reason to refuse a message)."""
    if raw is None or not raw.strip():
        return None
    try:
        return parse_event_time(raw, received_at)
    except (ValueError, OverflowError, OSError):
        return None


def to_batches(
    messages: list[Message],
    *,
    source_id: str,
    batch_context: dict[str, Any],
    received_at: datetime,
    blocked: Iterable[str],
    max_events: int,
    paths: list[str],
    sent_at: str | None = None,
    correct_clock_skew: bool = False,
) -> list[IngestBatch]:
    """One canonical batch per message. All are checked first: one bad message rejects the request.

    `correct_clock_skew`: the messages arrive now from the clients that stamped them (the HTTP API), so
    their times are corrected by their `sentAt` (the message's, else the batch's `sent_at`)."""
    if len(messages) > max_events:
        raise invalid("$.batch", f"at most {max_events} messages per request")
    errors = [e for m, p in zip(messages, paths, strict=True) for e in _validate(m, p)]
    if errors:
        raise InvalidInput(errors)
    blocked = frozenset(blocked)
    batches = []
    for message, path in zip(messages, paths, strict=True):
        context = {**batch_context, **message.context}
        traits = user_traits(message, context)
        aliases = [
            *_alias("user_id", message.user_id, blocked),
            *_alias("anonymous_id", message.anonymous_id, blocked),
            *(_alias("anonymous_id", message.previous_id, blocked) if message.type == "alias" else []),
            *aliases_from_properties(traits, blocked)[0],
        ]
        time = event_time(message.timestamp, received_at, f"{path}.timestamp")
        message_sent_at = message.sent_at or sent_at
        if correct_clock_skew and message.timestamp is not None:
            time = sent_at_corrected(time, _sent_at(message_sent_at, received_at), received_at)
        segment_meta = {
            k: v
            for k, v in (
                ("type", message.type),
                ("sentAt", message_sent_at),
                ("originalTimestamp", message.timestamp),
                ("integrations", message.integrations or None),
                ("previousId", _text(message.previous_id)),
            )
            if v is not None
        }
        event = CanonicalEvent(
            type=event_type(_event_type(message), f"{path}.event"),
            time=time,
            external_id=external_id(message.message_id, f"{path}.messageId"),
            properties=_properties(message, traits),
            context={**context, "segment": segment_meta},
            aliases=list(dict.fromkeys(aliases)),
            trait_inputs=traits,
        )
        batches.append(
            IngestBatch(
                source_id=source_id,
                dialect="segment",
                events=[event],
                received_at=received_at,
                asserted=message.type == "alias",
            )
        )
    return batches
