"""Request limits beyond the body size: JSON shape (nesting depth, string length, keys per object),
aliases per request, and a deadline for reading the body so a slow client cannot hold a worker.

The body-size limit is Litestar's (`IDGRAPH_MAX_BODY_BYTES`, 413) and events per request are checked by each
dialect (`IDGRAPH_MAX_EVENTS_PER_REQUEST`, 422). What is here answers 422 with the JSON path of the first
value that breaks a limit, or 408 when the body does not arrive in time.
"""

from __future__ import annotations

import asyncio
from typing import Any

import msgspec

from app.http.problems import ApiError, invalid
from app.settings import Settings


class JsonLimits(msgspec.Struct, frozen=True):
    max_depth: int
    max_string: int
    max_keys: int

    @classmethod
    def of(cls, settings: Settings) -> JsonLimits:
        return cls(settings.max_json_depth, settings.max_string_length, settings.max_object_keys)


def _key_path(parent: str, key: str) -> str:
    if key.isidentifier():
        return f"{parent}.{key}"
    return f"{parent}[{msgspec.json.encode(key).decode()}]"


def check_json(value: Any, limits: JsonLimits) -> None:
    """422 naming the first value nested deeper than `max_depth` containers, a string (or key) longer than
    `max_string` characters, or an object with more than `max_keys` keys. Iterative: deep input costs no
    recursion."""
    stack: list[tuple[Any, str, int]] = [(value, "$", 0)]
    while stack:
        node, path, depth = stack.pop()
        if isinstance(node, str):
            if len(node) > limits.max_string:
                raise invalid(path, f"strings may hold at most {limits.max_string} characters")
            continue
        if not isinstance(node, dict | list):
            continue
        if depth + 1 > limits.max_depth:
            raise invalid(path, f"JSON may nest at most {limits.max_depth} levels deep")
        if isinstance(node, dict):
            if len(node) > limits.max_keys:
                raise invalid(path, f"an object may hold at most {limits.max_keys} keys")
            for key, child in node.items():
                child_path = _key_path(path, str(key))
                if len(key) > limits.max_string:
                    raise invalid(child_path, f"keys may hold at most {limits.max_string} characters")
                stack.append((child, child_path, depth + 1))
        else:
            stack.extend((child, f"{path}[{i}]", depth + 1) for i, child in enumerate(node))


def check_json_bytes(body: bytes, limits: JsonLimits) -> None:
    """The same check on a raw body; a body that is not JSON is left to the parser that reports it."""
    if not body:
        return
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return
    check_json(value, limits)


def body_timeout_middleware_factory(timeout: float) -> Any:
    """ASGI middleware: each chunk of the request body must arrive within `timeout` seconds, else 408.

    uvicorn closes idle keep-alive connections (timeout_keep_alive) and bounds incomplete headers
    (h11_max_incomplete_event_size), but once a handler waits for the body it waits as long as the client
    likes; this bounds that wait."""

    def middleware_factory(app: Any) -> Any:
        async def middleware(scope: Any, receive: Any, send: Any) -> None:
            if scope["type"] != "http" or timeout <= 0:
                await app(scope, receive, send)
                return
            body_done = False

            async def timed_receive() -> Any:
                nonlocal body_done
                if body_done:
                    return await receive()
                try:
                    message = await asyncio.wait_for(receive(), timeout)
                except TimeoutError:
                    raise ApiError(
                        408, f"the request body did not arrive within {timeout:g} seconds"
                    ) from None
                if message["type"] != "http.request" or not message.get("more_body", False):
                    body_done = True
                return message

            await app(scope, timed_receive, send)

        return middleware

    return middleware_factory
