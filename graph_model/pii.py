"""Which properties are personal identifiers, and which values must never become aliases.

A property that names a person or a device (`email`, `phone`, `customer_id`, ...) becomes an alias, which is
what links sessions into one profile. Junk values that trackers send when they know nothing (`undefined`,
`null`, `0`) would glue strangers together, so they are blocked before they reach the graph.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from graph_model.urn import AliasUrn, InvalidUrn, make_alias

# Property key (lower-cased) -> alias type.
PII_KEYS: Mapping[str, str] = {
    "email": "email",
    "phone": "phone",
    "cellphone": "phone",
    "phone_number": "phone",
    "device_id": "device_id",
    "id": "id",
    "customer_id": "customer_id",
    "user_id": "user_id",
}

# API.md's list. An empty value, or one that is only quotes (`""`, `''`), counts as empty.
DEFAULT_BLOCKED_VALUES: frozenset[str] = frozenset(
    {
        "undefined",
        "null",
        "none",
        "nan",
        "anonymous",
        "guest",
        "0",
        "-1",
        "[object object]",
        "true",
        "false",
        "",
    }
)


def is_blocked(value: str, extra_blocked: Iterable[str] = ()) -> bool:
    """True when the value is junk that must never link anything (compared trimmed and case-folded)."""
    folded = value.strip().casefold()
    if not folded.strip("\"'").strip():
        return True
    return folded in DEFAULT_BLOCKED_VALUES or folded in {v.casefold() for v in extra_blocked}


def alias_value_text(raw: Any) -> str | None:
    """The text of a PII property value, or None for values that cannot identify anyone (objects, bools)."""
    if isinstance(raw, bool) or raw is None:
        return None
    if isinstance(raw, int | float):
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        return str(raw)
    if isinstance(raw, str):
        return raw
    return None


def aliases_from_properties(
    properties: Mapping[str, Any], extra_blocked: Iterable[str] = ()
) -> tuple[list[AliasUrn], list[str]]:
    """The aliases carried by PII keys of a property map, and the keys skipped (blocked or invalid values).

    Skipped keys are reported, not raised: a tracker that sends `email: "undefined"` has sent a valid event
    that simply identifies nobody.
    """
    found: list[AliasUrn] = []
    skipped: list[str] = []
    blocked = frozenset(extra_blocked)
    for key, raw in properties.items():
        alias_type = PII_KEYS.get(key.lower())
        if alias_type is None:
            continue
        text = alias_value_text(raw)
        if text is None or is_blocked(text, blocked):
            skipped.append(key)
            continue
        try:
            alias = make_alias(alias_type, text)
        except InvalidUrn:
            skipped.append(key)
            continue
        if is_blocked(alias.value, blocked):
            skipped.append(key)
            continue
        if alias not in found:
            found.append(alias)
    return found, skipped
