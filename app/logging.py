"""structlog, configured once: a console renderer on a terminal, JSON lines otherwise.

Request-scoped values (the request id) live in structlog's contextvars, so every line logged while a request
is handled carries them without being passed around. Standard-library loggers (uvicorn, the neo4j driver) are
rendered by the same processors, so the output is one format.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

from app.settings import Settings

_configured = False

# Personal data never reaches the logs: a URN keeps its type and a hash of its value, an e-mail address
# anywhere in a logged string becomes a hash. Paths such as /aliases/urn:email:ann@example.com are logged,
# so this runs on every line, whatever logged it.
_URN = re.compile(r"urn:([a-z0-9_]+):([^\s/?#&\"',]+)", re.IGNORECASE)
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def pseudonym(value: str) -> str:
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()[:12]


def redact(text: str) -> str:
    text = _URN.sub(lambda m: f"urn:{m.group(1)}:{pseudonym(m.group(2))}", text)
    return _EMAIL.sub(lambda m: pseudonym(m.group(0).lower()), text)


def redact_personal_data(_: Any, __: str, event_dict: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    for key, value in event_dict.items():
        if isinstance(value, str) and ("urn:" in value or "@" in value):
            event_dict[key] = redact(value)
    return event_dict


def configure_logging(settings: Settings) -> None:
    global _configured
    if _configured:
        return
    fmt = settings.log_format or ("console" if sys.stderr.isatty() else "json")
    renderer: structlog.types.Processor = (
        structlog.dev.ConsoleRenderer() if fmt == "console" else structlog.processors.JSONRenderer()
    )
    level = logging.getLevelName(settings.log_level)
    if not isinstance(level, int):
        level = logging.INFO
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared,
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            redact_personal_data,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.stdlib.LoggerFactory(),
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=shared,
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                redact_personal_data,
                renderer,
            ],
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # Quiet chatty libraries: the driver's notifications, the test client, and uvicorn's own access
    # lines (idgraph writes one access line per request itself).
    for name, lib_level in (
        ("neo4j", logging.WARNING),
        ("httpx", logging.WARNING),
        ("uvicorn.access", logging.WARNING),
    ):
        logging.getLogger(name).setLevel(max(lib_level, level))
    _configured = True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)
