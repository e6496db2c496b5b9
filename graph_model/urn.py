"""Alias URNs: `urn:<type>:<value>`, normalised before they are stored or looked up.

Normalisation is what makes `urn:email:Someone@Gmail.com ` and `urn:email:someone@gmail.com` the same alias,
so it lives in one pure function that every dialect and every query goes through.

Phones become E.164 through Google's libphonenumber (`phonenumbers`): `0049 (30) 1234-567`, `030 1234567`
(with the default region DE) and `+49 30 1234567` are all `+49301234567`. A number without a country code
needs a region to be read; the process has one default region, set once at start-up from
IDGRAPH_DEFAULT_PHONE_REGION (`set_default_phone_region`), so that the dialects and the lookups
(`GET /aliases/{urn}`, `idgraph erase --alias`) read a number the same way.
"""

from __future__ import annotations

import re

import msgspec
import phonenumbers

URN_TYPE = re.compile(r"^[a-z0-9_]+$")
MAX_URN_VALUE_LENGTH = 512
_NOT_DIGIT = re.compile(r"[^0-9]")


class InvalidUrn(ValueError):
    """The text is not an alias URN idgraph can store."""


class UnparsablePhone(InvalidUrn):
    """A phone value that is no phone number: it identifies nobody, so it is ignored as an identifier (never a
    reason to reject the event that carries it)."""


_default_phone_region: str | None = None


def phone_region(text: str | None) -> str | None:
    """A region code libphonenumber knows (`DE`, `us` -> `US`), None for none; ValueError otherwise."""
    if text is None or not text.strip():
        return None
    region = text.strip().upper()
    if region not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"{text!r} is not a region code libphonenumber knows (ISO 3166-1 alpha-2, e.g. DE)")
    return region


def set_default_phone_region(region: str | None) -> None:
    """The region numbers without a country code are read in, for this process (None: such numbers keep
    their digits only). Called once at start-up with the validated IDGRAPH_DEFAULT_PHONE_REGION."""
    global _default_phone_region
    _default_phone_region = phone_region(region)


def default_phone_region() -> str | None:
    return _default_phone_region


def _e164(text: str, region: str | None) -> str | None:
    """E.164 of a number libphonenumber reads as a complete, possible number (its extension dropped)."""
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        return None
    if phonenumbers.is_possible_number_with_reason(number) != phonenumbers.ValidationResult.IS_POSSIBLE:
        return None  # too short, too long, an unknown country code, or a local number without an area code
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_phone(value: str, region: str | None) -> str:
    """A phone number in E.164, or UnparsablePhone.

    - `+49 30 1234567`, `tel:+49-30-1234567`: the country code is given; E.164 whatever the region.
    - `030 1234567` with a region (DE): read as a national number of that region; the region's own
      international prefix works too (`0049 ...` in DE, `011 49 ...` in the US).
    - `0049 30 1234567` in a region whose international prefix is not `00`, or with no region: `00` is
      read as the international prefix (ITU-T E.164's recommended one, that of most of the world).
    - `030 1234567` with no region: its digits only (`0301234567`), as API.md says.
    An extension (`ext. 12`, `x12`, `;ext=12`) is dropped: E.164 has none.
    """
    text = value.strip()
    if text.startswith("+") or text.lower().startswith("tel:"):
        found = _e164(text, None)
    else:
        found = _e164(text, region) if region else None
        digits = _NOT_DIGIT.sub("", text)
        if found is None and digits.startswith("00"):
            found = _e164("+" + digits[2:], None)
        if found is None and region is None and digits:
            found = digits
    if not found:
        raise UnparsablePhone(f"urn:phone: value {value.strip()!r} is not a phone number")
    return found


class AliasUrn(msgspec.Struct, frozen=True, order=True):
    type: str
    value: str

    def __str__(self) -> str:
        return f"urn:{self.type}:{self.value}"

    @property
    def urn(self) -> str:
        return str(self)


def normalise_value(alias_type: str, value: str) -> str:
    """Emails trimmed and lower-cased; phones in E.164 (`normalise_phone`, in the default region; raises
    UnparsablePhone); other values trimmed."""
    value = value.strip()
    if alias_type == "email":
        return value.lower()
    if alias_type == "phone":
        return normalise_phone(value, _default_phone_region)
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
