"""Run a real Neo4j Community server locally, without Docker or a Neo4j install.

Why this exists: idgraph needs a genuine Neo4j (same Cypher, constraints and Bolt
protocol as production) for ``idgraph serve`` and for the test-suite, on machines
where only Java + Maven Central are available. Neo4j is published on Maven Central
as an embeddable library, so we:

1. resolve ``org.neo4j:neo4j`` + ``org.neo4j:neo4j-bolt`` (version pinned in
   ``pom.xml``) into a per-version jar cache with ``mvn dependency:copy-dependencies``,
2. compile the tiny ``Launcher.java`` next to the jars, and
3. spawn ``java ... Launcher`` which starts the DBMS with a Bolt connector bound to
   127.0.0.1 and prints ``READY bolt://127.0.0.1:<port>`` once the default database
   is available.

Only the standard library is used so that this works before any dependency is
installed. POSIX-only (fcntl, signals, sessions); Linux is the target.

Data-dir layout (the data dir is also the Neo4j home)::

    <data_dir>/data/...             Neo4j store + transaction logs
    <data_dir>/logs/debug.log       Neo4j's own logs
    <data_dir>/neo4j-launcher.log   stdout/stderr of the JVM (READY line, crashes)
    <data_dir>/neo4j.pid            JSON {pid, port, uri, ...} of the running JVM
    <data_dir>/neo4j.lock           flock serialising start/stop on this data dir
"""

from __future__ import annotations

import atexit
import contextlib
import fcntl
import hashlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

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

_PKG_DIR = Path(__file__).resolve().parent
POM_PATH = _PKG_DIR / "pom.xml"
LAUNCHER_SRC = _PKG_DIR / "Launcher.java"

PIDFILE_NAME = "neo4j.pid"
LOCKFILE_NAME = "neo4j.lock"
LAUNCHER_LOG_NAME = "neo4j-launcher.log"
_MARKER_NAME = ".complete"  # written into <cache>/lib only after mvn succeeded

_READY_RE = re.compile(rb"^READY (bolt://\S+)\s*$", re.MULTILINE)
_SIZE_RE = re.compile(r"^\d+[kmgKMG]?$")
_MVN_TIMEOUT_S = 1800.0


def _read_pom_version(pom: Path = POM_PATH) -> str:
    """Return the ``neo4j.version`` property of the pom (the single source of truth)."""
    ns = {"m": "http://maven.apache.org/POM/4.0.0"}
    node = ET.parse(pom).getroot().find("m:properties/m:neo4j.version", ns)
    if node is None or not (node.text or "").strip():
        raise RuntimeError(f"{pom}: missing <properties><neo4j.version>")
    return (node.text or "").strip()


#: Neo4j version used, read from pom.xml so Python and Maven can never disagree.
NEO4J_VERSION: str = _read_pom_version()

#: JVM flags, taken from the ``server.jvm.additional`` defaults of Neo4j 5's own
#: neo4j.conf. The --add-opens are needed on JDK 17 so the page cache and the
#: transaction-log native accessor can reach DirectByteBuffer / file descriptors
#: (without them Neo4j logs "using fallback mode" / "Incorrect file descriptor").
#: -XX:+AlwaysPreTouch is deliberately left out: it would make RSS = full heap.
JVM_FLAGS: tuple[str, ...] = (
    "-XX:+UseG1GC",
    "-XX:-OmitStackTraceInFastThrow",
    "-XX:+UnlockExperimentalVMOptions",
    "-XX:+TrustFinalNonStaticFields",
    "-XX:+DisableExplicitGC",
    "-XX:+ExitOnOutOfMemoryError",
    "-Djdk.nio.maxCachedBufferSize=1024",
    "-Dio.netty.tryReflectionSetAccessible=true",
    "-Dlog4j2.disable.jmx=true",
    "-Dfile.encoding=UTF-8",
    "--add-opens=java.base/java.nio=ALL-UNNAMED",
    "--add-opens=java.base/java.io=ALL-UNNAMED",
    "--add-opens=java.base/sun.nio.ch=ALL-UNNAMED",
)


# --------------------------------------------------------------------------- helpers


def _tail(path: Path, lines: int = 40) -> str:
    """Last ``lines`` lines of a (possibly missing) text file, for error messages."""
    try:
        data = path.read_bytes()[-64 * 1024 :]
    except OSError:
        return f"<{path} not readable>"
    return "\n".join(data.decode("utf-8", "replace").splitlines()[-lines:])


@contextlib.contextmanager
def _flock(path: Path) -> Iterator[None]:
    """Exclusive advisory lock; released automatically if the holder dies."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _tool(name: str) -> str:
    """Locate ``java``/``javac``/``mvn``: $JAVA_HOME/bin first (for java tools), then PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home and name in ("java", "javac"):
        candidate = Path(java_home) / "bin" / name
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"`{name}` not found on PATH (need JDK 17+ and Maven 3.6+ to run a local Neo4j)")
    return found


def _size_bytes(value: str) -> int:
    """'512m' -> 536870912 (JVM size syntax; value already validated by _check_size)."""
    mult = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30}.get(value[-1].lower(), 1)
    return int(value.rstrip("kmgKMG")) * mult


#: -Xms cap. Neo4j's production advice is Xms == Xmx, but for a dev/test server that
#: commits the whole heap early: measured idle RSS ~560 MB with -Xms1g vs ~320 MB
#: with -Xms128m for the same workload. A later -Xms in IDGRAPH_NEO4J_JAVA_OPTS wins.
_MAX_INITIAL_HEAP = "256m"


def _initial_heap(heap: str) -> str:
    return heap if _size_bytes(heap) <= _size_bytes(_MAX_INITIAL_HEAP) else _MAX_INITIAL_HEAP


def _check_size(value: str, what: str) -> str:
    if not _SIZE_RE.match(value):
        raise ValueError(f"{what} must look like '512m' or '1g', got {value!r}")
    return value


def free_port() -> int:
    """A currently-free TCP port on 127.0.0.1 (tiny race window until Java binds it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _port_open(port: int, timeout: float = 1.0) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout):
            return True
    except OSError:
        return False


def _port_bindable(port: int) -> bool:
    """Whether Java could bind 127.0.0.1:port (netty sets SO_REUSEADDR, so do we)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
        return True


def _pid_alive(pid: int) -> bool:
    """True if ``pid`` exists and is not a zombie."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # exists, owned by someone else
    try:
        # Field 3 of /proc/<pid>/stat is the state; after the ")" of the comm field.
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


def _cmdline(pid: int) -> list[str]:
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
        return [a.decode("utf-8", "replace") for a in raw.split(b"\0") if a]
    except OSError:
        pass
    try:  # non-Linux fallback
        out = subprocess.run(
            ["ps", "-o", "command=", "-p", str(pid)], capture_output=True, text=True, check=False
        ).stdout
        return shlex.split(out)
    except (OSError, ValueError):
        return []


def _is_our_java(pid: int, data_dir: Path) -> bool:
    """Guards against PID reuse: the pid must be a Launcher JVM for *this* data dir."""
    args = _cmdline(pid)
    if "Launcher" not in args or "--data-dir" not in args:
        return False
    i = args.index("--data-dir")
    return i + 1 < len(args) and Path(args[i + 1]).resolve() == data_dir.resolve()


# --------------------------------------------------------------------------- runtime


def jar_cache_dir() -> Path:
    """Where the Neo4j jars + compiled launcher live.

    ``$IDGRAPH_NEO4J_CACHE`` if set, else ``~/.cache/idgraph/neo4j-<version>``
    (honouring ``$XDG_CACHE_HOME``). Versioned so an upgrade never mixes jars.
    """
    env = os.environ.get("IDGRAPH_NEO4J_CACHE")
    if env:
        return Path(env).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "idgraph" / f"neo4j-{NEO4J_VERSION}"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def ensure_runtime(cache: Path | None = None) -> Path:
    """Make sure ``cache/lib`` holds the Neo4j jars and ``cache/classes`` the launcher.

    Idempotent and cheap when already done. The first call downloads ~125 MB from
    Maven Central (about a minute). A file lock makes concurrent callers (parallel
    test workers) wait for one download instead of racing; a marker file written
    only after success makes an interrupted download start over.

    Returns the cache directory. Raises RuntimeError (with the tail of the mvn /
    javac log) on failure.
    """
    cache = (cache or jar_cache_dir()).expanduser().resolve()
    cache.mkdir(parents=True, exist_ok=True)
    lib, classes = cache / "lib", cache / "classes"
    # The marker records the pom's hash: editing the pom (e.g. a version bump with
    # IDGRAPH_NEO4J_CACHE pinned) re-resolves the jars.
    want_marker = f"{NEO4J_VERSION} {_sha256(POM_PATH)}\n"
    want_class = f"{_sha256(LAUNCHER_SRC)}\n"

    with _flock(cache / ".lock"):
        marker = lib / _MARKER_NAME
        if not (marker.is_file() and marker.read_text() == want_marker):
            shutil.rmtree(lib, ignore_errors=True)
            log = cache / "mvn.log"
            cmd = [
                _tool("mvn"),
                "-q",
                "-B",
                "-f",
                str(POM_PATH),
                "dependency:copy-dependencies",
                f"-DoutputDirectory={lib}",
                "-DincludeScope=runtime",
            ]
            with open(log, "wb") as out:
                out.write(f"$ {shlex.join(cmd)}\n".encode())
                out.flush()
                try:
                    rc = subprocess.run(
                        cmd,
                        stdout=out,
                        stderr=subprocess.STDOUT,
                        stdin=subprocess.DEVNULL,
                        timeout=_MVN_TIMEOUT_S,
                        check=False,
                    ).returncode
                except subprocess.TimeoutExpired:
                    rc = -1
            core = lib / f"neo4j-{NEO4J_VERSION}.jar"
            bolt = lib / f"neo4j-bolt-{NEO4J_VERSION}.jar"
            if rc != 0 or not core.is_file() or not bolt.is_file():
                raise RuntimeError(
                    f"resolving Neo4j {NEO4J_VERSION} jars with Maven failed (exit {rc}); "
                    f"log {log}:\n{_tail(log)}"
                )
            marker.write_text(want_marker)

        # Recompile when the source changed (content hash, not mtime: checkouts and
        # pip installs rewrite mtimes arbitrarily). --release 17 so any JDK >= 17 runs it.
        stamp = classes / ".source-sha256"
        if not (
            (classes / "Launcher.class").is_file() and stamp.is_file() and stamp.read_text() == want_class
        ):
            shutil.rmtree(classes, ignore_errors=True)
            log = cache / "javac.log"
            cmd = [
                _tool("javac"),
                "--release",
                "17",
                "-cp",
                f"{lib}/*",
                "-d",
                str(classes),
                str(LAUNCHER_SRC),
            ]
            with open(log, "wb") as out:
                rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, check=False).returncode
            if rc != 0:
                raise RuntimeError(f"compiling {LAUNCHER_SRC} failed; log {log}:\n{_tail(log)}")
            stamp.write_text(want_class)
    return cache


# --------------------------------------------------------------------------- handle

# Popen objects of JVMs this interpreter spawned, so we can reap them (no zombies)
# and stop foreground ones at interpreter exit.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


class LocalNeo4j:
    """Handle on a running local Neo4j JVM.

    ``owned`` is True when this handle started the JVM; a handle obtained by
    reusing an instance that was already running (e.g. ``idgraph neo4j start``
    before ``idgraph serve``) is not owned, and leaving the ``with`` block does
    not stop it. ``stop()`` always stops.
    """

    def __init__(
        self,
        *,
        uri: str,
        pid: int,
        port: int,
        data_dir: Path,
        owned: bool,
        proc: subprocess.Popen[bytes] | None = None,
    ) -> None:
        self.uri = uri
        self.pid = pid
        self.port = port
        self.data_dir = data_dir
        self.owned = owned
        self._proc = proc

    @property
    def log_path(self) -> Path:
        return self.data_dir / LAUNCHER_LOG_NAME

    def is_running(self) -> bool:
        if self._proc is not None:
            return self._proc.poll() is None
        return _pid_alive(self.pid) and _is_our_java(self.pid, self.data_dir)

    def stop(self, timeout: float = 60.0) -> None:
        """SIGTERM (clean shutdown via the JVM's hook), wait, then SIGKILL as fallback."""
        try:
            if self.is_running():
                _terminate(self.pid, self._proc, timeout)
        finally:
            _CHILDREN.pop(self.pid, None)
            _remove_pidfile(self.data_dir, self.pid)

    def close(self) -> None:
        """Stop the JVM only if this handle started it."""
        if self.owned:
            self.stop()

    def __enter__(self) -> LocalNeo4j:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"LocalNeo4j(uri={self.uri!r}, pid={self.pid}, data_dir={str(self.data_dir)!r})"


def _terminate(pid: int, proc: subprocess.Popen[bytes] | None, timeout: float) -> None:
    proc = proc or _CHILDREN.get(pid)

    def wait(t: float) -> bool:
        if proc is not None:  # our child: wait() also reaps it
            try:
                proc.wait(timeout=t)
                return True
            except subprocess.TimeoutExpired:
                return False
        deadline = time.monotonic() + t
        while time.monotonic() < deadline:
            if not _pid_alive(pid):
                return True
            time.sleep(0.1)
        return not _pid_alive(pid)

    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
    if not wait(timeout):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
        wait(10.0)


@atexit.register
def _stop_foreground_children() -> None:
    # Clean shutdown of JVMs started with parent watch if the caller forgot to stop
    # them; the Java-side watch covers the cases where atexit does not run (SIGKILL).
    for pid, proc in list(_CHILDREN.items()):
        if getattr(proc, "_idgraph_foreground", False) and proc.poll() is None:
            with contextlib.suppress(Exception):
                _terminate(pid, proc, 30.0)


# --------------------------------------------------------------------------- pidfile


def _pidfile(data_dir: Path) -> Path:
    return data_dir / PIDFILE_NAME


def _read_pidfile(data_dir: Path) -> dict[str, Any] | None:
    try:
        info = json.loads(_pidfile(data_dir).read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(info, dict) or not isinstance(info.get("pid"), int):
        return None
    return info


def _write_pidfile(data_dir: Path, info: dict[str, Any]) -> None:
    tmp = _pidfile(data_dir).with_suffix(".pid.tmp")
    tmp.write_text(json.dumps(info, indent=2) + "\n")
    os.replace(tmp, _pidfile(data_dir))  # atomic: readers never see half a file


def _remove_pidfile(data_dir: Path, pid: int | None = None) -> None:
    """Remove the pidfile (only if it still names ``pid``, when given)."""
    info = _read_pidfile(data_dir)
    if pid is None or info is None or info.get("pid") == pid:
        with contextlib.suppress(FileNotFoundError):
            _pidfile(data_dir).unlink()


def status(data_dir: Path) -> dict[str, Any] | None:
    """Describe the Neo4j running on ``data_dir``, or None if there is none.

    Reads the pidfile and checks that the pid is alive *and* is our Launcher JVM for
    this data dir (so a stale pidfile whose pid got reused is ignored). The returned
    dict is the pidfile content (pid, port, uri, ...) plus ``ready``: whether the
    Bolt port accepts TCP connections (False while the JVM is still starting).
    """
    data_dir = Path(data_dir).expanduser().resolve()
    info = _read_pidfile(data_dir)
    if info is None:
        return None
    pid = int(info["pid"])
    if not (_pid_alive(pid) and _is_our_java(pid, data_dir)):
        return None
    port = info.get("port")
    return {**info, "ready": isinstance(port, int) and _port_open(port)}


def stop(data_dir: Path, timeout: float = 60.0) -> bool:
    """Stop the Neo4j running on ``data_dir`` (via its pidfile).

    Returns True if a JVM was stopped, False if none was running. A stale pidfile
    is removed either way.
    """
    data_dir = Path(data_dir).expanduser().resolve()
    with _flock(data_dir / LOCKFILE_NAME):
        st = status(data_dir)
        if st is None:
            _remove_pidfile(data_dir)
            return False
        pid = int(st["pid"])
        try:
            _terminate(pid, _CHILDREN.get(pid), timeout)
        finally:
            _CHILDREN.pop(pid, None)
            _remove_pidfile(data_dir, pid)
        return True


# --------------------------------------------------------------------------- start


def _wait_reused(data_dir: Path, st: dict[str, Any], port: int | None, timeout: float) -> LocalNeo4j:
    """Handle on an already-running instance, waiting for its Bolt port if it is starting."""
    if port is not None and st.get("port") != port:
        raise RuntimeError(
            f"Neo4j already running on {data_dir} with port {st.get('port')} "
            f"(pid {st['pid']}); requested port {port}. Stop it first."
        )
    deadline = time.monotonic() + timeout
    while not _port_open(int(st["port"])):
        if not _pid_alive(int(st["pid"])):
            raise RuntimeError(f"Neo4j pid {st['pid']} on {data_dir} died while starting")
        if time.monotonic() > deadline:
            raise RuntimeError(f"Neo4j pid {st['pid']} on {data_dir} not ready after {timeout}s")
        time.sleep(0.2)
    return LocalNeo4j(
        uri=str(st["uri"]),
        pid=int(st["pid"]),
        port=int(st["port"]),
        data_dir=data_dir,
        owned=False,
        proc=_CHILDREN.get(int(st["pid"])),
    )


def _spawn(
    data_dir: Path,
    port: int,
    heap: str,
    page_cache: str,
    timeout: float,
    parent_pid: int | None,
    cache: Path,
) -> LocalNeo4j:
    log_path = data_dir / LAUNCHER_LOG_NAME
    cmd = [
        _tool("java"),
        f"-Xmx{heap}",
        f"-Xms{_initial_heap(heap)}",
        *JVM_FLAGS,
        *shlex.split(os.environ.get("IDGRAPH_NEO4J_JAVA_OPTS", "")),
        "-cp",
        f"{cache / 'lib'}/*{os.pathsep}{cache / 'classes'}",
        "Launcher",
        "--data-dir",
        str(data_dir),
        "--port",
        str(port),
        "--page-cache",
        page_cache,
    ]
    if parent_pid is not None:
        cmd += ["--parent-pid", str(parent_pid)]

    # Append (keeps the previous run's crash output) and remember where this run starts.
    # A regular file, not a pipe: nobody has to keep draining it, so the JVM can never
    # block on a full pipe, and a detached JVM keeps a valid stdout after we exit.
    with open(log_path, "ab") as log:
        log.write(f"\n==== {time.strftime('%Y-%m-%d %H:%M:%S')} $ {shlex.join(cmd)}\n".encode())
        log.flush()
        offset = log.tell()
        proc = subprocess.Popen(
            cmd,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            cwd=data_dir,
            start_new_session=True,  # no terminal SIGINT/SIGHUP from our tty
        )
    proc._idgraph_foreground = parent_pid is not None  # type: ignore[attr-defined]
    _CHILDREN[proc.pid] = proc
    uri_guess = f"bolt://127.0.0.1:{port}"
    _write_pidfile(
        data_dir,
        {
            "pid": proc.pid,
            "port": port,
            "uri": uri_guess,
            "data_dir": str(data_dir),
            "version": NEO4J_VERSION,
            "started_at": time.time(),
            "parent_pid": parent_pid,
            "log": str(log_path),
        },
    )

    deadline = time.monotonic() + timeout
    while True:
        with open(log_path, "rb") as fh:
            fh.seek(offset)
            m = _READY_RE.search(fh.read())
        if m:
            uri = m.group(1).decode()
            return LocalNeo4j(uri=uri, pid=proc.pid, port=port, data_dir=data_dir, owned=True, proc=proc)
        rc = proc.poll()
        if rc is not None or time.monotonic() > deadline:
            if rc is None:
                _terminate(proc.pid, proc, 10.0)
            _CHILDREN.pop(proc.pid, None)
            _remove_pidfile(data_dir, proc.pid)
            what = f"exited with {rc}" if rc is not None else f"not ready after {timeout}s"
            raise RuntimeError(
                f"Neo4j on {data_dir} {what}; log {log_path}:\n{_tail(log_path)}\n"
                f"(see also {data_dir / 'logs' / 'debug.log'})"
            )
        time.sleep(0.1)


def _start(
    data_dir: Path,
    port: int | None,
    heap: str,
    page_cache: str,
    timeout: float,
    parent_pid: int | None,
    cache: Path | None,
) -> LocalNeo4j:
    _check_size(heap, "heap")
    _check_size(page_cache, "page_cache")
    data_dir = Path(data_dir).expanduser().resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    runtime = ensure_runtime(cache)
    # Serialise starts on one data dir: a second caller waits, then reuses the instance.
    with _flock(data_dir / LOCKFILE_NAME):
        st = status(data_dir)
        if st is not None:
            return _wait_reused(data_dir, st, port, timeout)
        _remove_pidfile(data_dir)  # stale
        # Neo4j binds Bolt only after starting its databases (~10s): fail fast instead.
        if port is not None and not _port_bindable(port):
            raise RuntimeError(f"port {port} on 127.0.0.1 is already in use")
        attempts = 3 if port is None else 1
        for attempt in range(attempts):
            try:
                return _spawn(data_dir, port or free_port(), heap, page_cache, timeout, parent_pid, runtime)
            except RuntimeError as e:
                # Auto-picked port stolen between free_port() and the JVM binding it.
                if attempt + 1 < attempts and "already in use" in str(e).lower():
                    continue
                raise
    raise AssertionError("unreachable")


def start(
    data_dir: Path,
    port: int | None = None,
    heap: str = "1g",
    page_cache: str = "256m",
    timeout: float = 120,
    *,
    parent_watch: bool = True,
    cache: Path | None = None,
) -> LocalNeo4j:
    """Start Neo4j on ``data_dir`` for the lifetime of this Python process.

    For ``idgraph serve`` and tests. Blocks until Bolt is usable (``READY``) and
    returns an owned handle; use it as a context manager or call ``stop()``.
    ``port=None`` picks a free port. With ``parent_watch`` the JVM exits by itself
    (cleanly) within ~2s if this Python process dies, even by SIGKILL.

    If Neo4j is already running on ``data_dir`` (pidfile + live JVM), that instance
    is reused and a non-owned handle is returned (``heap``/``page_cache`` are then
    ignored; an explicit, different ``port`` is an error). A reused instance lives
    only as long as its owner: the process that started it (``stop()``/exit).

    Raises RuntimeError with the launcher log tail if the JVM dies or times out.
    """
    parent = os.getpid() if parent_watch else None
    return _start(Path(data_dir), port, heap, page_cache, timeout, parent, cache)


def start_background(
    data_dir: Path,
    port: int | None = None,
    heap: str = "1g",
    page_cache: str = "256m",
    timeout: float = 120,
    *,
    cache: Path | None = None,
) -> LocalNeo4j:
    """Start a detached Neo4j that outlives this process (``idgraph neo4j start``).

    Returns once Bolt is ready; stop it later with ``stop(data_dir)`` (or
    ``handle.stop()``). Reuses an instance already running on ``data_dir``. The
    handle is never ``owned``, so leaving a ``with`` block does not stop the JVM.
    """
    handle = _start(Path(data_dir), port, heap, page_cache, timeout, None, cache)
    handle.owned = False
    proc = _CHILDREN.pop(handle.pid, None)
    if proc is not None:
        # Detach: we will never wait() for this JVM, it outlives us (own session, and
        # init adopts it when we exit). Marking the Popen as finished stops its
        # __del__ from warning "subprocess is still running". If this process lives
        # on and the JVM exits first, it is a zombie until we exit, which status()
        # and stop() treat as not running.
        proc.returncode = 0
    handle._proc = None
    return handle
