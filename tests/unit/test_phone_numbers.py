"""Phone aliases in E.164 (API.md, Identity rules): table-driven cases through libphonenumber, with and
without IDGRAPH_DEFAULT_PHONE_REGION, and what an unparsable phone does (it identifies nobody)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from app.dialects.common import urn_list
from app.settings import SettingsError, load_settings
from graph_model.pii import aliases_from_properties
from graph_model.urn import (
    AliasUrn,
    InvalidUrn,
    UnparsablePhone,
    default_phone_region,
    normalise_phone,
    parse_urn,
    set_default_phone_region,
)


@pytest.fixture
def region() -> Iterator[None]:
    """Tests that set the process's default region put back the one they found."""
    before = default_phone_region()
    yield
    set_default_phone_region(before)


@pytest.mark.parametrize(
    ("raw", "region", "e164"),
    [
        # International prefixes: `+` and `00` (the number, a different person until now).
        ("0049 (30) 1234-567", None, "+49301234567"),
        ("0049 (30) 1234-567", "DE", "+49301234567"),
        ("0049 (30) 1234-567", "US", "+49301234567"),  # `00` is read even where the prefix is 011
        ("+49 30 1234567", None, "+49301234567"),
        ("+49-30-1234567", "US", "+49301234567"),  # a country code beats the default region
        ("tel:+49-30-1234567", None, "+49301234567"),
        ("011 49 30 1234567", "US", "+49301234567"),  # the region's own international prefix
        ("+44 7700 900123", None, "+447700900123"),
        # National formats take the default region.
        ("030 1234567", "DE", "+49301234567"),
        ("(030) 123 45 67", "DE", "+49301234567"),
        ("06 12 34 56 78", "FR", "+33612345678"),
        ("(415) 555-0100", "US", "+14155550100"),
        ("415.555.0100", "US", "+14155550100"),
        # Extensions are not part of E.164.
        ("+1 (415) 555-0100 ext. 12", None, "+14155550100"),
        ("(415) 555-0100 x12", "US", "+14155550100"),
        ("+49 30 1234567;ext=5", None, "+49301234567"),
        # With no default region, a number without a country code keeps its digits (API.md).
        ("030 1234567", None, "0301234567"),
        ("(415) 555-0100", None, "4155550100"),
    ],
)
def test_phone_values_become_e164(raw: str, region: str | None, e164: str) -> None:
    assert normalise_phone(raw, region) == e164


@pytest.mark.parametrize(
    ("raw", "region"),
    [
        ("abc", None),
        ("abc", "DE"),
        ("n/a", "DE"),
        ("12", "DE"),  # too short for a German number
        ("+1 555 1234", None),  # a local number without its area code
        ("+999 1234567", None),  # no such country code
        ("+", None),
        ("---", None),
        ("(415) 555-0100 555 0100 555", "US"),  # too long
    ],
)
def test_junk_is_no_phone_number(raw: str, region: str | None) -> None:
    with pytest.raises(UnparsablePhone):
        normalise_phone(raw, region)


def test_international_prefix_00_and_plus_are_one_alias() -> None:
    """The issue's case: `0049 (30) 1234-567` was `urn:phone:0049301234567`, another person."""
    assert parse_urn("urn:phone:0049 (30) 1234-567") == parse_urn("urn:phone:+49301234567")
    assert str(parse_urn("urn:phone:0049 (30) 1234-567")) == "urn:phone:+49301234567"


def test_default_region_reads_national_numbers_for_dialects_and_lookups(region: None) -> None:
    set_default_phone_region("de")
    assert default_phone_region() == "DE"
    assert str(parse_urn("urn:phone:030 1234567")) == "urn:phone:+49301234567"
    found, skipped = aliases_from_properties({"phone": "030 1234567", "cellphone": "0151 23456789"})
    assert found == [AliasUrn("phone", "+49301234567"), AliasUrn("phone", "+4915123456789")]
    assert skipped == []
    set_default_phone_region(None)
    assert str(parse_urn("urn:phone:030 1234567")) == "urn:phone:0301234567"


def test_unparsable_phone_is_ignored_as_an_identifier_not_rejected() -> None:
    found, skipped = aliases_from_properties({"email": "a@b.io", "phone": "call me maybe", "cellphone": "+1"})
    assert found == [AliasUrn("email", "a@b.io")]
    assert sorted(skipped) == ["cellphone", "phone"]
    # In a URN list too: dropped like a blocked value, while a malformed URN is still a 422.
    assert urn_list(["urn:phone:n/a", "urn:email:a@b.io"], "$.aliases", ()) == [AliasUrn("email", "a@b.io")]
    with pytest.raises(InvalidUrn):
        parse_urn("urn:phone:n/a")  # a lookup of it finds nothing it could be


def test_default_phone_region_setting_is_validated() -> None:
    assert load_settings({"IDGRAPH_DEFAULT_PHONE_REGION": " gb "}).default_phone_region == "GB"
    assert load_settings({}).default_phone_region is None
    with pytest.raises(SettingsError, match="IDGRAPH_DEFAULT_PHONE_REGION"):
        load_settings({"IDGRAPH_DEFAULT_PHONE_REGION": "Germany"})
    with pytest.raises(ValueError):
        set_default_phone_region("XX")
