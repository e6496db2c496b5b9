"""Local, embedded Neo4j Community server reachable over Bolt (see manager.py).

Public API::

    NEO4J_VERSION: str
    jar_cache_dir() -> Path
    ensure_runtime(cache: Path | None = None) -> Path
    start(data_dir, port=None, heap="1g", page_cache="256m", timeout=120,
          *, parent_watch=True, cache=None) -> LocalNeo4j
    start_background(data_dir, port=None, heap="1g", page_cache="256m", timeout=120,
                     *, cache=None) -> LocalNeo4j
    status(data_dir) -> dict | None
    stop(data_dir, timeout=60) -> bool
    LocalNeo4j: .uri .pid .port .data_dir .owned .log_path .is_running() .stop(timeout=60)
                .close(); context manager
"""

from .manager import (
    JVM_FLAGS,
    NEO4J_VERSION,
    LocalNeo4j,
    ensure_runtime,
    free_port,
    jar_cache_dir,
    start,
    start_background,
    status,
    stop,
)

__all__ = [
    "JVM_FLAGS",
    "NEO4J_VERSION",
    "LocalNeo4j",
    "ensure_runtime",
    "free_port",
    "jar_cache_dir",
    "start",
    "start_background",
    "status",
    "stop",
]
