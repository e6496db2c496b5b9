"""Enrichment at ingestion: what traits need from an event, as plain event properties.

Pure functions of the event's properties, its context and the client that sent it (user agent, IP). The
ingestion service stores their result on the event node (`page_url`, `utm_source`, `ua_browser`, ...), so the
trait queries in `cypher/` read flat properties instead of parsing JSON, and `idgraph traits verify` can run
the same functions again over the stored raw event and compare.

- Page: the URL from `context.page.url` (Tracardi's tracker, Segment), else `properties.page_url`, else
  `properties.url`; the referrer from `context.page.referrer` / `context.page.referer` (a string, or
  Tracardi's `{"host": ...}`), else `properties.referrer`.
- UTM: `utm_source`, `utm_medium`, `utm_campaign`, `utm_term`, `utm_content` from the page URL's query (or the
  query after a `#`, as single-page apps put it).
- Device: the user agent from the context (Segment `context.userAgent`, Tracardi
  `context.browser.local.browser.userAgent`), else the request's `User-Agent` header, parsed with `ua-parser`
  (the maintained Python port of the uap-core rules). A user agent that names no OS and no device (an HTTP
  library posting server-side, `python-requests/2.31`) is kept raw but says nothing about the device.
- IP: never stored as received. `truncate` keeps the network (IPv4 /24, IPv6 /48), `hash` keeps a keyed
  HMAC-SHA256 of the address, `drop` keeps nothing. A raw `ip` in the context (Segment `context.ip`) is
  removed from the stored context.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
from collections.abc import Mapping
from functools import lru_cache
from typing import Any, Literal, TypeGuard
from urllib.parse import unquote, urlsplit

import msgspec

IpMode = Literal["truncate", "hash", "drop"]
IP_MODES: tuple[IpMode, ...] = ("truncate", "hash", "drop")
UTM_KEYS = ("source", "medium", "campaign", "term", "content")
MAX_URL = 2048
MAX_VALUE = 256
MAX_USER_AGENT = 1024

# Operating systems whose devices are handhelds (ua-parser's OS families).
_MOBILE_OS = frozenset(
    {"iOS", "Android", "Windows Phone", "Windows Mobile", "BlackBerry OS", "KaiOS", "Symbian OS", "Tizen"}
)
_DESKTOP_OS = frozenset(
    {
        "Windows",
        "Mac OS X",
        "macOS",
        "Linux",
        "Ubuntu",
        "Fedora",
        "Debian",
        "Chrome OS",
        "ChromeOS",
        "FreeBSD",
    }
)


class ClientInfo(msgspec.Struct, frozen=True, kw_only=True):
    """Who sent the request, as the HTTP layer saw it. `ip` is already protected (see `protect_ip`)."""

    user_agent: str | None = None
    ip: str | None = None


class Device(msgspec.Struct, frozen=True, kw_only=True):
    browser: str | None = None
    browser_version: str | None = None
    os: str | None = None
    os_version: str | None = None
    type: str | None = None  # mobile | tablet | desktop | bot | other


def _text(value: Any, limit: int = MAX_VALUE) -> str | None:
    if not isinstance(value, str):
        return None
    text = value.strip()
    return text[:limit] if text else None


def _is_mapping(value: Any) -> TypeGuard[Mapping[str, Any]]:
    """isinstance(value, Mapping), with the usual answers (a dict, a string, nothing) found without the ABC
    check, which took a tenth of the time an event's enrichment took."""
    if isinstance(value, dict):
        return True
    if value is None or isinstance(value, str):
        return False
    return isinstance(value, Mapping)


def _get(mapping: Any, *path: str) -> Any:
    for key in path:
        if not _is_mapping(mapping):
            return None
        mapping = mapping.get(key)
    return mapping


def page_of(properties: Mapping[str, Any], context: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(page URL, referrer) of an event, or None for each that it does not carry."""
    url = (
        _text(_get(context, "page", "url"), MAX_URL)
        or _text(properties.get("page_url"), MAX_URL)
        or _text(properties.get("url"), MAX_URL)
    )
    referrer = None
    for raw in (
        _get(context, "page", "referrer"),
        _get(context, "page", "referer"),
        properties.get("referrer"),
    ):
        if _is_mapping(raw):  # Tracardi: {"host": ..., "query": ...}
            raw = raw.get("url") or raw.get("host")
        referrer = _text(raw, MAX_URL)
        if referrer:
            break
    return url, referrer


def utm_of(url: str | None) -> dict[str, str]:
    """The UTM parameters of a URL, by short name (`source`, `medium`, ...); empty when it has none."""
    if not url:
        return {}
    if "%" not in url and "utm" not in url.lower():
        return {}  # no key of its query can read utm_*, escaped or not: no need to parse it
    try:
        parts = urlsplit(url)
    except ValueError:
        return {}
    queries = [parts.query]
    if "?" in parts.fragment:  # https://shop.example/#/landing?utm_source=x
        queries.append(parts.fragment.split("?", 1)[1])
    found: dict[str, str] = {}
    for query in queries:
        params = utm_params(query)
        for key in UTM_KEYS:
            if key in found:
                continue
            raw = params.get(f"utm_{key}")
            value = _text(raw) if raw else None
            if value:
                found[key] = value
    return found


def utm_params(query: str) -> dict[str, str]:
    """The `utm_*` parameters of a query string, by lower-case name, as
    `{k.lower(): v[0] for k, v in parse_qs(query).items() if k.lower().startswith("utm_")}` reads them
    (the same splitting, `+` and %-decoding, blank values left out, a name's first value), without
    decoding the other parameters: parse_qs of every page URL was 4% of the API's CPU at /track batch 100."""
    firsts: dict[str, str] = {}  # exact decoded name -> its first value, in order of first appearance
    for part in query.split("&"):
        name, eq, value = part.partition("=")
        if not eq or not value:
            continue
        if "%" in name or "+" in name:
            name = unquote(name.replace("+", " "))
        if name[:4].lower() != "utm_" or name in firsts:
            continue
        firsts[name] = unquote(value.replace("+", " ")) if "%" in value or "+" in value else value
    # Names equal but for case: the one that appeared first last wins, as in the dict comprehension above.
    return {name.lower(): value for name, value in firsts.items()}


def user_agent_of(context: Mapping[str, Any], client: ClientInfo | None) -> str | None:
    return (
        _text(context.get("userAgent"), MAX_USER_AGENT)
        or _text(_get(context, "browser", "local", "browser", "userAgent"), MAX_USER_AGENT)
        or (_text(client.user_agent, MAX_USER_AGENT) if client else None)
    )


def _device_type(ua: str, os_family: str | None, device_family: str | None, brand: str | None) -> str:
    if device_family == "Spider":
        return "bot"
    family = (device_family or "").lower()
    if (
        "ipad" in family
        or "tablet" in family
        or "tablet" in (brand or "").lower()
        or "kindle" in family
        or (os_family == "Android" and "Mobile" not in ua)
    ):
        return "tablet"
    if os_family in _MOBILE_OS or "Mobile" in ua:
        return "mobile"
    if os_family in _DESKTOP_OS:
        return "desktop"
    return "other"


@lru_cache(maxsize=4096)
def device_of(user_agent: str | None) -> Device | None:
    """Browser, OS and device type of a user agent; None when it names no OS and no device."""
    if not user_agent:
        return None
    from ua_parser import parse  # loads the rules on first use (about half a second)

    result = parse(user_agent)
    if result.os is None and result.device is None:
        return None
    browser = result.user_agent
    os = result.os
    device = result.device
    return Device(
        browser=browser.family if browser else None,
        browser_version=browser.major if browser else None,
        os=os.family if os else None,
        os_version=os.major if os else None,
        type=_device_type(
            user_agent,
            os.family if os else None,
            device.family if device else None,
            device.brand if device else None,
        ),
    )


def protect_ip(raw: str | None, mode: IpMode, key: bytes | None = None) -> str | None:
    """The client IP as idgraph may keep it: truncated to its network, a keyed hash, or nothing."""
    if not raw or mode == "drop":
        return None
    try:
        address = ipaddress.ip_address(raw.strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped  # ::ffff:a.b.c.d is an IPv4 client behind a dual-stack socket
    if mode == "hash":
        if not key:
            raise ValueError("hashing IPs needs a key (IDGRAPH_IP_HASH_KEY)")
        return "hmac-sha256:" + hmac.new(key, address.packed, hashlib.sha256).hexdigest()
    prefix = 24 if address.version == 4 else 48
    network = ipaddress.ip_network(f"{address}/{prefix}", strict=False)
    return str(network)


def stored_context(context: Mapping[str, Any]) -> dict[str, Any]:
    """The context as stored: without a raw client IP."""
    return {k: v for k, v in context.items() if k != "ip"}


def event_fields(
    properties: Mapping[str, Any], context: Mapping[str, Any], client: ClientInfo | None
) -> dict[str, Any]:
    """The flat event properties enrichment adds (absent ones are None, which Neo4j does not store)."""
    url, referrer = page_of(properties, context)
    utm = utm_of(url)
    user_agent = user_agent_of(context, client)
    device = device_of(user_agent)
    fields: dict[str, Any] = {
        "page_url": url,
        "page_referrer": referrer,
        # UTM_KEYS spelled out: a comprehension formatting the five names was the costliest line here.
        "utm_source": utm.get("source"),
        "utm_medium": utm.get("medium"),
        "utm_campaign": utm.get("campaign"),
        "utm_term": utm.get("term"),
        "utm_content": utm.get("content"),
        "user_agent": user_agent,
        "ua_browser": device.browser if device else None,
        "ua_browser_version": device.browser_version if device else None,
        "ua_os": device.os if device else None,
        "ua_os_version": device.os_version if device else None,
        "ua_device": device.type if device else None,
        "client_ip": client.ip if client else None,
    }
    return fields
