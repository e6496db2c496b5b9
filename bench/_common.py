"""What the benchmarks share: the local Neo4j they start, the app's driver and services, their own Cypher,
the API as a process of its own, and the few numbers they read from /proc.

Every benchmark runs as a module from the repository root (`python -m bench.ingest`), so `app`, `graph_model`
and `bench` import as packages. Their Cypher lives in `bench/<name>_cypher/` packages and loads through the
project's own `QueryCatalog`, the one loader the app uses for `cypher/`.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Iterator, Mapping
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import httpx
from neo4j import AsyncDriver

from app import neo4j_local
from app.neo4j_local import free_port
from app.services.container import Services
from app.settings import Settings, load_settings
from app.store.catalog import QueryCatalog
from app.store.driver import create_driver
from app.store.repository import GraphRepository

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HOST = "127.0.0.1"  # the benchmarks never target anything else
CLK_TCK = os.sysconf("SC_CLK_TCK")

__all__ = [
    "HOST",
    "RESULTS",
    "ROOT",
    "ApiServer",
    "Graph",
    "LocalRun",
    "api_env",
    "arguments",
    "connect",
    "cpu_seconds",
    "ensure_source",
    "env_number",
    "free_port",
    "local_neo4j",
    "nearest_rank",
    "percentile",
    "process_tree",
    "round_spread",
    "rss_mb",
    "status_kb",
    "uvicorn_module",
    "write_result",
]


# -- command line and results ---------------------------------------------------------------------------


def arguments(doc: str | None) -> argparse.ArgumentParser:
    """A parser whose --help shows the module's docstring as written."""
    return argparse.ArgumentParser(description=doc, formatter_class=argparse.RawDescriptionHelpFormatter)


def write_result(path: Path, result: Mapping[str, Any], *headline: str) -> Path:
    """Write a benchmark's result as indented JSON (bench/results/*.json by default), then print its
    `headline` keys, if any, as one line of JSON."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    if headline:
        print(json.dumps({k: result[k] for k in headline}))
    return path


def env_number(name: str, default: float) -> float:
    """A size or a count a benchmark takes from the environment (BENCH_*), for small runs while developing."""
    value = os.environ.get(name)
    return float(value) if value else default


def round_spread(key: str, per_round: list[float], digits: int = 3) -> dict[str, Any]:
    """A figure measured in several rounds: `key` is the median of the per-round values, `<key>_spread` their
    [min, max], `<key>_rounds` all of them (the run-to-run spread a reader needs to trust the median)."""
    if not per_round:
        return {key: None, f"{key}_spread": None, f"{key}_rounds": []}
    ordered = sorted(per_round)
    return {
        key: round(statistics.median(ordered), digits),
        f"{key}_spread": [round(ordered[0], digits), round(ordered[-1], digits)],
        f"{key}_rounds": [round(v, digits) for v in per_round],
    }


# -- percentiles ----------------------------------------------------------------------------------------
# Two conventions, each the one its benchmark has always published; they differ by a sample at most.


def percentile(values: list[float], q: float) -> float:
    """The sample nearest to the fraction `q` (0..1) of the way through the sorted values (bench/identity)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def nearest_rank(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile `q` (0..100) of an ascending list (bench/asgi_servers); NaN for none."""
    if not sorted_values:
        return float("nan")
    k = max(0, min(len(sorted_values) - 1, round(q / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


# -- /proc ----------------------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of one process (its own threads; reaped children excluded); 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def status_kb(pid: int, key: str) -> int | None:
    """A kB figure of /proc/<pid>/status (VmRSS, VmHWM, ...); None when the process or the key is missing."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith(key + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def rss_mb(pid: int) -> float:
    return (status_kb(pid, "VmRSS") or 0) / 1024


def _children(pid: int) -> list[int]:
    out: list[int] = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as f:
                out.extend(int(c) for c in f.read().split())
    except OSError:
        pass
    return out


def process_tree(pid: int) -> list[int]:
    """`pid` and every process below it, parents first."""
    pids, todo = [], [pid]
    while todo:
        p = todo.pop()
        pids.append(p)
        todo.extend(_children(p))
    return pids


# -- Neo4j, the driver and the services -----------------------------------------------------------------


@dataclass(frozen=True)
class LocalRun:
    """The Neo4j a benchmark runs against and a scratch directory that lives as long as the run."""

    uri: str
    pid: int | None  # None: a Neo4j this run did not start
    workdir: Path

    def replans(self) -> int | None:
        """How many cached plans Neo4j has thrown away as stale so far (its debug.log says so each time a
        statement's statistics moved past the divergence threshold; the statement is planned again on its
        next run). None for a Neo4j this run did not start."""
        if self.pid is None:
            return None
        log = self.workdir / "neo4j" / "logs" / "debug.log"
        try:
            with log.open("rb") as lines:
                return sum(1 for line in lines if b"Discarded stale query" in line)
        except FileNotFoundError:
            return 0

    def replans_since(self, before: int | None) -> int | None:
        """Replans since `replans()` answered `before` (None when either count is unknown)."""
        now = self.replans()
        return None if before is None or now is None else now - before


@contextmanager
def local_neo4j(
    prefix: str, *, heap: str = "1g", page_cache: str = "256m", uri: str | None = None
) -> Iterator[LocalRun]:
    """An embedded Neo4j in a temporary directory, stopped (and the directory removed) on the way out; with
    `uri`, that (empty, disposable) Neo4j instead and only the scratch directory."""
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        workdir = Path(tmp)
        if uri is not None:
            yield LocalRun(uri, None, workdir)
            return
        server = neo4j_local.start(workdir / "neo4j", heap=heap, page_cache=page_cache)
        try:
            yield LocalRun(server.uri, server.pid, workdir)
        finally:
            server.stop()


@dataclass(frozen=True)
class Graph:
    """The app's driver and services on a benchmark's Neo4j, as `idgraph serve` builds them."""

    driver: AsyncDriver
    services: Services

    @property
    def settings(self) -> Settings:
        return self.services.settings

    @property
    def database(self) -> str:
        return self.settings.neo4j_database

    def statements(self, package: str) -> GraphRepository:
        """A repository over a benchmark's own Cypher package (`bench.identity_cypher`, ...)."""
        return GraphRepository(self.driver, QueryCatalog(package), self.database)

    def services_with(self, settings: Settings) -> Services:
        """The services again over the same driver, with other settings (other merge limits, ...)."""
        return Services.build(settings, self.driver)


@asynccontextmanager
async def connect(uri: str) -> AsyncIterator[Graph]:
    """The app's driver (`create_driver`) and `Services.build` with the default settings (the environment is
    not read: a benchmark measures the defaults), on `uri`; the driver is closed on the way out."""
    settings = load_settings({}).with_neo4j_uri(uri)
    driver = create_driver(settings)
    try:
        yield Graph(driver, Services.build(settings, driver))
    finally:
        await driver.close()


# -- the API in a process of its own --------------------------------------------------------------------


def api_env(neo4j_uri: str, data_dir: Path, admin_token: str, **extra: str) -> dict[str, str]:
    """This process's environment plus what an idgraph API on `neo4j_uri` needs, quiet logs, and `extra`."""
    return {
        **os.environ,
        "NEO4J_URI": neo4j_uri,
        "IDGRAPH_ADMIN_TOKEN": admin_token,
        "IDGRAPH_DATA_DIR": str(data_dir),
        "IDGRAPH_LOG_FORMAT": "json",
        "IDGRAPH_LOG_LEVEL": "WARNING",
        **extra,
    }


def uvicorn_module(port: int, profile_to: Path | None = None) -> list[str]:
    """`python -m uvicorn --factory app.main:app_from_env` on `port` (one worker, what `idgraph serve` runs),
    optionally under pyinstrument writing a text profile to `profile_to`."""
    uvicorn_args = [
        "-m", "uvicorn", "--factory", "app.main:app_from_env", "--host", HOST,
        "--port", str(port), "--no-access-log", "--log-level", "warning",
    ]  # fmt: skip
    prefix = [sys.executable]
    if profile_to is not None:
        prefix += ["-m", "pyinstrument", "-r", "text", "--show-all", "-o", str(profile_to)]
    return prefix + uvicorn_args


class ApiServer:
    """An idgraph API in a process (and session) of its own on a free 127.0.0.1 port.

    `command(port)` is what runs (by default `uvicorn_module`); its output goes to `log` when given, else
    stdout stays this process's and stderr is dropped. As a context manager it waits for `/health` to answer
    200 (`ready_s`: seconds from the start) and stops the server on the way out."""

    def __init__(
        self,
        env: Mapping[str, str],
        command: Callable[[int], list[str]] = uvicorn_module,
        *,
        log: Path | None = None,
        ready_timeout: float = 90,
    ) -> None:
        self.ready_timeout = ready_timeout
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.command = command(self.port)
        self.log_path = log
        self.ready_s: float | None = None
        self._log: IO[bytes] | None = open(log, "wb") if log is not None else None  # noqa: SIM115 - stop()
        self.started = time.perf_counter()
        # A session of its own, so that stop() reaches a forked worker even when its supervisor is gone.
        self.proc = subprocess.Popen(
            self.command,
            cwd=ROOT,
            env={**env, "IDGRAPH_PORT": str(self.port)},
            stdout=self._log,
            stderr=subprocess.STDOUT if self._log is not None else subprocess.DEVNULL,
            start_new_session=True,
        )

    @property
    def pid(self) -> int:
        return self.proc.pid

    def log_tail(self, n: int = 30) -> str:
        if self.log_path is None:
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-n:])

    def wait_ready(self, timeout: float | None = None) -> float:
        """Poll `/health` until it answers 200; the seconds since the process started."""
        timeout = self.ready_timeout if timeout is None else timeout
        deadline = time.perf_counter() + timeout
        with httpx.Client(base_url=self.url, timeout=2) as client:
            while time.perf_counter() < deadline:
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the API exited ({self.proc.returncode}):\n{self.log_tail()}")
                try:
                    if client.get("/health").status_code == 200:
                        self.ready_s = time.perf_counter() - self.started
                        return self.ready_s
                except httpx.HTTPError:
                    pass
                time.sleep(0.1)
        raise RuntimeError(f"the API did not answer /health in {timeout:.0f} s:\n{self.log_tail()}")

    def stop(self) -> None:
        """SIGINT, as Ctrl-C would (pyinstrument writes its profile only then; uvicorn re-raises the signal
        it stopped on, and a re-raised SIGTERM would kill the process first), then SIGKILL to the session
        after 60 s, and to any worker that outlived its supervisor."""
        pids = process_tree(self.proc.pid)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)  # our own session only
                self.proc.wait(timeout=10)
        for p in pids[1:]:
            with contextlib.suppress(ProcessLookupError):
                os.kill(p, signal.SIGKILL)
        if self._log is not None:
            self._log.close()

    def __enter__(self) -> ApiServer:
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def ensure_source(url: str, admin_token: str, source_id: str, name: str) -> None:
    """Register the source the load writes to; 409 (an earlier run on the same Neo4j made it) is fine."""
    response = httpx.post(
        f"{url}/sources",
        json={"id": source_id, "name": name},
        headers={"Authorization": f"Bearer {admin_token}"},
    )
    if response.status_code not in (201, 409):
        raise RuntimeError(f"POST /sources -> {response.status_code} {response.text[:300]}")
