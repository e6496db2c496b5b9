"""Enrichment tables: page and UTM from URLs, device from user agents, the client IP protected."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from graph_model.enrichment import (
    UTM_KEYS,
    ClientInfo,
    Device,
    device_of,
    event_fields,
    page_of,
    protect_ip,
    stored_context,
    utm_of,
    utm_params,
)

UTM_TABLE: list[tuple[str | None, dict[str, str]]] = [
    (None, {}),
    ("", {}),
    ("https://shop.example/", {}),
    ("https://shop.example/?q=kettle", {}),
    (
        "https://shop.example/p?utm_source=google&utm_medium=cpc&utm_campaign=spring&utm_term=kettle"
        "&utm_content=ad-1",
        {"source": "google", "medium": "cpc", "campaign": "spring", "term": "kettle", "content": "ad-1"},
    ),
    ("https://shop.example/?UTM_SOURCE=Newsletter", {"source": "Newsletter"}),
    ("https://shop.example/?utm_source=a&utm_source=b", {"source": "a"}),
    ("https://shop.example/?utm_campaign=spring%20sale+2025", {"campaign": "spring sale 2025"}),
    ("https://shop.example/?utm_source=&utm_medium=%20", {}),
    ("https://shop.example/#/landing?utm_source=fb&utm_medium=social", {"source": "fb", "medium": "social"}),
    ("https://shop.example/?utm_source=q#/x?utm_source=f&utm_term=t", {"source": "q", "term": "t"}),
    ("/relative/path?utm_medium=email", {"medium": "email"}),
    ("http://[::1", {}),  # not a URL: nothing, and no error
]


@pytest.mark.parametrize(("url", "expected"), UTM_TABLE)
def test_utm_from_urls(url: str | None, expected: dict[str, str]) -> None:
    assert utm_of(url) == expected


PAGE_TABLE: list[tuple[dict[str, Any], dict[str, Any], tuple[str | None, str | None]]] = [
    ({}, {}, (None, None)),
    # Tracardi's tracker: context.page, with its referer object
    (
        {},
        {"page": {"url": "https://a.io/x", "referer": {"host": "google.com"}}},
        ("https://a.io/x", "google.com"),
    ),
    # Segment: context.page.url / referrer
    (
        {},
        {"page": {"url": "https://a.io/y", "referrer": "https://b.io/"}},
        ("https://a.io/y", "https://b.io/"),
    ),
    # properties: page_url before url
    ({"page_url": "https://a.io/1", "url": "https://a.io/2"}, {}, ("https://a.io/1", None)),
    ({"url": " https://a.io/2 ", "referrer": "https://r.io/"}, {}, ("https://a.io/2", "https://r.io/")),
    # the context wins over properties
    ({"url": "https://a.io/p"}, {"page": {"url": "https://a.io/c"}}, ("https://a.io/c", None)),
    # not text: ignored
    ({"url": 42}, {"page": "https://a.io/"}, (None, None)),
]


@pytest.mark.parametrize(("properties", "context", "expected"), PAGE_TABLE)
def test_page_from_properties_and_context(
    properties: dict[str, Any], context: dict[str, Any], expected: tuple[str | None, str | None]
) -> None:
    assert page_of(properties, context) == expected


IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.4 Mobile/15E148 Safari/604.1"
)
IPAD = (
    "Mozilla/5.0 (iPad; CPU OS 16_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/16.0 "
    "Mobile/15E148 Safari/604.1"
)
ANDROID_PHONE = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Mobile Safari/537.36"
)
ANDROID_TABLET = (
    "Mozilla/5.0 (Linux; Android 13; SM-X700) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
    "Safari/537.36"
)
WINDOWS_CHROME = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 "
    "Safari/537.36"
)
MAC_FIREFOX = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14.4; rv:125.0) Gecko/20100101 Firefox/125.0"
LINUX_FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:126.0) Gecko/20100101 Firefox/126.0"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"

UA_TABLE: list[tuple[str | None, Device | None]] = [
    (None, None),
    ("", None),
    ("python-requests/2.31.0", None),  # a server-side HTTP library says nothing about a device
    (IPHONE, Device(browser="Mobile Safari", browser_version="17", os="iOS", os_version="17", type="mobile")),
    (IPAD, Device(browser="Mobile Safari", browser_version="16", os="iOS", os_version="16", type="tablet")),
    (
        ANDROID_PHONE,
        Device(browser="Chrome Mobile", browser_version="124", os="Android", os_version="14", type="mobile"),
    ),
    (
        ANDROID_TABLET,
        Device(browser="Chrome", browser_version="120", os="Android", os_version="13", type="tablet"),
    ),
    (
        WINDOWS_CHROME,
        Device(browser="Chrome", browser_version="124", os="Windows", os_version="10", type="desktop"),
    ),
    (
        MAC_FIREFOX,
        Device(browser="Firefox", browser_version="125", os="Mac OS X", os_version="14", type="desktop"),
    ),
    (
        LINUX_FIREFOX,
        Device(browser="Firefox", browser_version="126", os="Linux", os_version=None, type="desktop"),
    ),
    (GOOGLEBOT, Device(browser="Googlebot", browser_version="2", os=None, os_version=None, type="bot")),
]


@pytest.mark.parametrize(("user_agent", "expected"), UA_TABLE)
def test_device_from_user_agents(user_agent: str | None, expected: Device | None) -> None:
    assert device_of(user_agent) == expected


IP_TABLE: list[tuple[str | None, str, str | None]] = [
    ("203.0.113.77", "truncate", "203.0.113.0/24"),
    ("2001:db8:abcd:12:1:2:3:4", "truncate", "2001:db8:abcd::/48"),
    ("::ffff:203.0.113.77", "truncate", "203.0.113.0/24"),
    ("203.0.113.77", "drop", None),
    (None, "truncate", None),
    ("not-an-ip", "truncate", None),
    ("testclient", "hash", None),
]


@pytest.mark.parametrize(("raw", "mode", "expected"), IP_TABLE)
def test_ip_is_protected(raw: str | None, mode: Any, expected: str | None) -> None:
    assert protect_ip(raw, mode, b"k") == expected


def test_hashed_ips_are_keyed_and_stable() -> None:
    a = protect_ip("203.0.113.77", "hash", b"key-1")
    assert a is not None and a.startswith("hmac-sha256:") and "203.0.113" not in a
    assert a == protect_ip(" 203.0.113.77 ", "hash", b"key-1")
    assert a != protect_ip("203.0.113.77", "hash", b"key-2")
    assert a != protect_ip("203.0.113.78", "hash", b"key-1")
    with pytest.raises(ValueError):
        protect_ip("203.0.113.77", "hash", None)


def test_user_agent_from_context_before_the_header() -> None:
    client = ClientInfo(user_agent=WINDOWS_CHROME, ip="203.0.113.0/24")
    segment = event_fields({}, {"userAgent": IPHONE}, client)
    assert segment["ua_os"] == "iOS" and segment["user_agent"] == IPHONE
    tracardi = event_fields({}, {"browser": {"local": {"browser": {"userAgent": IPAD}}}}, client)
    assert tracardi["ua_device"] == "tablet"
    header = event_fields({}, {}, client)
    assert header["ua_browser"] == "Chrome" and header["client_ip"] == "203.0.113.0/24"
    assert event_fields({}, {}, None)["user_agent"] is None


def test_event_fields_and_stored_context() -> None:
    fields = event_fields(
        {"url": "https://a.io/?utm_source=x&utm_campaign=c", "referrer": "https://r.io/"}, {}, None
    )
    assert fields["page_url"] == "https://a.io/?utm_source=x&utm_campaign=c"
    assert fields["page_referrer"] == "https://r.io/"
    assert (fields["utm_source"], fields["utm_medium"], fields["utm_campaign"]) == ("x", None, "c")
    assert stored_context({"ip": "203.0.113.77", "library": {"name": "x"}}) == {"library": {"name": "x"}}


def test_event_fields_carry_every_utm_key() -> None:
    url = "https://a.io/?" + "&".join(f"utm_{k}={k}-value" for k in UTM_KEYS)
    fields = event_fields({"url": url}, {}, None)
    assert {k: fields[f"utm_{k}"] for k in UTM_KEYS} == {k: f"{k}-value" for k in UTM_KEYS}


def _utm_by_parse_qs(query: str) -> dict[str, str]:
    """The reference utm_params must equal: the standard library's parser, every parameter decoded."""
    params = {k.lower(): v for k, v in parse_qs(query, keep_blank_values=False).items()}
    return {k: v[0] for k, v in params.items() if k.startswith("utm_")}


_QUERY_PIECES = st.sampled_from(
    ["utm_", "UTM_", "Utm_", "source", "medium", "x", "=", "&", "+", "%20", "%75", "%5F", "%", "%zz", "a", ""]
)


@given(st.lists(_QUERY_PIECES, max_size=24).map("".join))
@settings(max_examples=2000)
def test_utm_params_read_a_query_as_parse_qs_does(query: str) -> None:
    assert utm_params(query) == _utm_by_parse_qs(query)


@pytest.mark.parametrize(
    "query",
    [
        "utm_source=a&UTM_SOURCE=b&utm_source=c",
        "UTM_SOURCE=b&utm_source=a",
        "utm%5Fsource=enc&utm_source=plain",
        "utm_source=&utm_source=late",
        "utm_campaign=spring+sale%21&other=%zz",
        "utm_source&utm_medium=m",
    ],
)
def test_utm_params_edge_cases_match_parse_qs(query: str) -> None:
    assert utm_params(query) == _utm_by_parse_qs(query)
