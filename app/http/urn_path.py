"""URNs in request paths.

An alias value may hold a '/' (a customer number like `DE/1042`, a base64 device id). Clients send it as
`%2F`, which the server decodes before routing, so the routes that take a URN take the rest of the path
(`{urn:path}`, which Litestar hands over with its leading '/') and this module takes it apart again.
"""

from __future__ import annotations

from app.http.problems import ApiError, invalid
from graph_model.urn import InvalidUrn, parse_urn


def urn_in_path(rest: str) -> str:
    """The normalised URN a `{urn:path}` parameter names; 422 when it is not a valid URN."""
    try:
        return str(parse_urn(rest.removeprefix("/")))
    except InvalidUrn as exc:
        raise invalid("$path.urn", str(exc)) from None


def urn_before_action(rest: str, action: str) -> str:
    """The URN of `/aliases/{urn}/{action}`: the path up to its last segment, which must be `action`
    (anything else is an unknown resource, 404)."""
    urn, slash, last = rest.removeprefix("/").rpartition("/")
    if not slash or last != action or not urn:
        raise ApiError(404, "not found")
    return urn_in_path(urn)
