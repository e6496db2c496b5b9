"""Helpers every dialect adapter shares: URN lists, event times, PII extraction, with JSON paths in errors."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

from graph_model.errors import FieldError, invalid
from graph_model.events import parse_event_time
from graph_model.pii import aliases_from_properties, is_blocked
from graph_model.urn import AliasUrn, InvalidUrn, UnparsablePhone, parse_urn

MAX_EVENT_TYPE_LENGTH = 128


def event_time(raw: Any, received_at: datetime, path: str) -> datetime:
    try:
        return parse_event_time(raw, received_at)
    except (ValueError, OverflowError, OSError):
        raise invalid(path, "must be an ISO 8601 time with a zone, or epoch seconds") from None


def event_type(raw: str, path: str) -> str:
    value = raw.strip()
    if not value:
        raise invalid(path, "must not be empty")
    if len(value) > MAX_EVENT_TYPE_LENGTH:
        raise invalid(path, f"must be at most {MAX_EVENT_TYPE_LENGTH} characters")
    return value


def urn_list(raw: Iterable[str], path: str, blocked: Iterable[str]) -> list[AliasUrn]:
    """Parse URNs: an invalid one is a 422 naming its index; a blocked value, or a phone URN whose value is no
    phone number, is dropped (it names nobody)."""
    found: list[AliasUrn] = []
    for i, text in enumerate(raw):
        try:
            alias = parse_urn(text)
        except UnparsablePhone:
            continue
        except InvalidUrn as exc:
            raise invalid(f"{path}[{i}]", str(exc)) from None
        if is_blocked(alias.value, blocked):
            continue
        if alias not in found:
            found.append(alias)
    return found


def pii_aliases(properties: Mapping[str, Any], blocked: Iterable[str]) -> list[AliasUrn]:
    return aliases_from_properties(properties, blocked)[0]


def external_id(raw: str | int | None, path: str) -> str | None:
    if raw is None:
        return None
    text = str(raw).strip()
    if not text:
        raise invalid(path, "must not be empty when given")
    if len(text) > 256:
        raise invalid(path, "must be at most 256 characters")
    return text


__all__ = ["FieldError", "event_time", "event_type", "external_id", "pii_aliases", "urn_list"]
