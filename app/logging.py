"""structlog, configured once: a console renderer on a terminal, JSON lines otherwise.

Request-scoped values (the request id) live in structlog's contextvars, so every line logged while a request
is handled carries them without being passed around.
"""

from __future__ import annotations

import logging
import sys

import structlog

from app.settings import Settings

_configured = False


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
    structlog.configure(
        processors=[
            structlog.contextvars.merge_contextvars,
            structlog.processors.add_log_level,
            structlog.processors.TimeStamper(fmt="iso", utc=True),
            structlog.processors.StackInfoRenderer(),
            structlog.processors.format_exc_info,
            renderer,
        ],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=True,
    )
    # The neo4j driver logs notifications (e.g. "index already exists") at INFO/WARNING through stdlib logging.
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr, format="%(levelname)s %(name)s %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    _configured = True


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.get_logger(name)  # type: ignore[no-any-return]
