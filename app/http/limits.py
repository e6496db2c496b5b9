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


_CONTAINERS = (dict, list)  # a tuple: `dict | list` builds a union object at every isinstance call


def check_json(value: Any, limits: JsonLimits, *, strings: bool = True) -> None:
    """422 naming the first value nested deeper than `max_depth` containers, a string (or key) longer than
    `max_string` characters, or an object with more than `max_keys` keys. Iterative: deep input costs no
    recursion. A value's JSON path is spelled out only for the value that fails (`_path`): building one for
    every value was most of the time this took. `strings=False` when no string can be too long (the body
    was not longer than `max_string`): then only the containers are visited."""
    # (value, depth, parent entry, key or index in the parent): the path, lazily
    stack: list[tuple[Any, int, Any, Any]] = [(value, 0, None, None)]
    while stack:
        entry = stack.pop()
        node, depth = entry[0], entry[1]
        if isinstance(node, str):
            if len(node) > limits.max_string:
                raise invalid(_path(entry), f"strings may hold at most {limits.max_string} characters")
            continue
        if not isinstance(node, _CONTAINERS):
            continue
        if depth + 1 > limits.max_depth:
            raise invalid(_path(entry), f"JSON may nest at most {limits.max_depth} levels deep")
        if isinstance(node, dict):
            if len(node) > limits.max_keys:
                raise invalid(_path(entry), f"an object may hold at most {limits.max_keys} keys")
            if not strings:
                stack.extend(
                    (child, depth + 1, entry, str(key))
                    for key, child in node.items()
                    if isinstance(child, _CONTAINERS)
                )
                continue
            for key, child in node.items():
                if len(key) > limits.max_string:
                    raise invalid(
                        _path((child, depth + 1, entry, str(key))),
                        f"keys may hold at most {limits.max_string} characters",
                    )
                stack.append((child, depth + 1, entry, str(key)))
        elif strings:
            stack.extend((child, depth + 1, entry, i) for i, child in enumerate(node))
        else:
            stack.extend(
                (child, depth + 1, entry, i) for i, child in enumerate(node) if isinstance(child, _CONTAINERS)
            )


def _path(entry: tuple[Any, int, Any, Any]) -> str:
    """The JSON path (`$.events[0].type`) of a `check_json` stack entry."""
    steps = []
    while entry[2] is not None:
        steps.append(entry[3])
        entry = entry[2]
    path = "$"
    for step in reversed(steps):
        path = f"{path}[{step}]" if isinstance(step, int) else _key_path(path, step)
    return path


def check_json_bytes(body: bytes, limits: JsonLimits) -> None:
    """The same check on a raw body; a body that is not JSON is left to the parser that reports it."""
    if not body:
        return
    try:
        value = msgspec.json.decode(body)
    except msgspec.DecodeError:
        return
    # A decoded string is never longer than the JSON text that holds it.
    check_json(value, limits, strings=len(body) > limits.max_string)


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
