"""Alias URNs: `urn:<type>:<value>`, normalised before they are stored or looked up.

Normalisation is what makes `urn:email:Someone@Gmail.com ` and `urn:email:someone@gmail.com` the same alias,
so it lives in one pure function that every dialect and every query goes through.
"""

from __future__ import annotations

import re

import msgspec

URN_TYPE = re.compile(r"^[a-z0-9_]+$")
MAX_URN_VALUE_LENGTH = 512
_PHONE_JUNK = re.compile(r"[^0-9]")


class InvalidUrn(ValueError):
    """The text is not an alias URN idgraph can store."""


class AliasUrn(msgspec.Struct, frozen=True, order=True):
    type: str
    value: str

    def __str__(self) -> str:
        return f"urn:{self.type}:{self.value}"

    @property
    def urn(self) -> str:
        return str(self)


def normalise_value(alias_type: str, value: str) -> str:
    """Emails trimmed and lower-cased; phones keep a leading `+` and digits only; other values trimmed."""
    value = value.strip()
    if alias_type == "email":
        return value.lower()
    if alias_type == "phone":
        digits = _PHONE_JUNK.sub("", value)
        return ("+" + digits) if value.startswith("+") and digits else digits
    return value


def make_alias(alias_type: str, value: str) -> AliasUrn:
    """Build a normalised alias from a type and a raw value, or raise InvalidUrn."""
    alias_type = alias_type.strip().lower()
    if not URN_TYPE.match(alias_type):
        raise InvalidUrn(f"alias type {alias_type!r} must match [a-z0-9_]+")
    normalised = normalise_value(alias_type, value)
    if not normalised:
        raise InvalidUrn(f"urn:{alias_type}: has an empty value")
    if len(normalised) > MAX_URN_VALUE_LENGTH:
        raise InvalidUrn(f"urn:{alias_type}: value is longer than {MAX_URN_VALUE_LENGTH} characters")
    if alias_type == "email" and "@" not in normalised:
        raise InvalidUrn(f"urn:email: value {normalised!r} is not an email address")
    return AliasUrn(alias_type, normalised)


def parse_urn(text: str) -> AliasUrn:
    """Parse `urn:<type>:<value>` (the `urn:` prefix case-insensitive) into a normalised alias."""
    stripped = text.strip()
    if not stripped.lower().startswith("urn:"):
        raise InvalidUrn(f"{text!r} does not start with 'urn:'")
    alias_type, sep, value = stripped[4:].partition(":")
    if not sep:
        raise InvalidUrn(f"{text!r} is not of the form urn:<type>:<value>")
    return make_alias(alias_type, value)
