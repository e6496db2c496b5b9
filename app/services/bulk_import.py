"""Bulk import: NDJSON lines of any dialect through the same translators and the same ingestion service.

`idgraph import FILE.ndjson --source ID` reads one JSON object per line, translates it with the dialect's own
`to_batch` function (exactly what its HTTP endpoint does, minus HTTP), and writes `--batch-size` lines per
`IngestionService.ingest_many` call: one transaction per chunk of lines. A chunk also closes once it holds
`--batch-events` events (default 1,000): lines of 100 events each made transactions of 10,000 events, which
wrote about a third slower per event than chunks of 500-1,000 (bench/ingest_paths.py, four chunks at once).
The `--source` is the source of every line (a line's own `source` / `writeKey` is not consulted); it must be
registered and enabled.

A line that cannot be read or translated is rejected with its reason, and the import goes on. When a chunk's
transaction fails as a whole, its lines are written again one by one, so only the lines that fail on their own
are rejected. Rejected lines go to the rejects file as `{"line", "reason", "text"}`, one per line.

Dialect detection (`--dialect auto`, per line, first rule that matches):

1. `eventType` at the top level, or `events[]` whose items have `eventType` -> `esp` (Unomi);
2. `batch[]`, or `type` in identify/track/page/screen/group/alias with `userId`, `anonymousId` or
   `previousId` -> `segment`;
3. `method` (`track`, `forward`, `page`, `set`), `event_name` or `eventName` -> `converge`;
4. `event_type` -> `loymax` (web event);
5. `events[]` (items with `type`), or a `session` object -> `tracardi` (`/track`).

Anything else is rejected as "dialect not recognised".
"""

from __future__ import annotations

import asyncio
import hashlib
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import IO, Any

import msgspec
from neo4j.exceptions import DriverError

from app.dialects import converge, esp, loymax, segment, tracardi
from app.services.ingestion import IngestionService, IngestResult
from graph_model import round_groups
from graph_model.errors import DomainError
from graph_model.events import IngestBatch

DIALECTS = ("tracardi", "esp", "converge", "loymax", "segment")
SEGMENT_TYPES = frozenset({"identify", "track", "page", "screen", "group", "alias"})
CONVERGE_METHODS = frozenset({"track", "forward", "page", "set"})
_decoder = msgspec.json.Decoder()
_encoder = msgspec.json.Encoder()


class Rejected(Exception):
    """A line that cannot be imported; the message is the reason written to the rejects file."""


def detect_dialect(obj: dict[str, Any]) -> str | None:
    """The dialect a line's shape says it is (rules in the module docstring), or None."""
    events = obj.get("events")
    listed = [e for e in events if isinstance(e, dict)] if isinstance(events, list) else []
    if "eventType" in obj or any("eventType" in e for e in listed):
        return "esp"
    if isinstance(obj.get("batch"), list) or (
        obj.get("type") in SEGMENT_TYPES and any(k in obj for k in ("userId", "anonymousId", "previousId"))
    ):
        return "segment"
    if obj.get("method") in CONVERGE_METHODS or "event_name" in obj or "eventName" in obj:
        return "converge"
    if "event_type" in obj:
        return "loymax"
    if listed or isinstance(obj.get("session"), dict):
        return "tracardi"
    return None


def translate(
    obj: dict[str, Any],
    dialect: str,
    *,
    source_id: str,
    received_at: datetime,
    blocked: frozenset[str],
    max_events: int,
) -> list[IngestBatch]:
    """The canonical batches of one line, by the dialect's own translator. Raises Rejected."""
    try:
        if dialect == "tracardi":
            track = msgspec.convert({**obj, "source": {"id": source_id}}, tracardi.TrackPayload)
            return [
                tracardi.track_to_batch(
                    track, profile_less=False, received_at=received_at, blocked=blocked, max_events=max_events
                )
            ]
        if dialect == "esp":
            payload = msgspec.convert(obj, esp.EspPayload)
            return esp.to_batches(
                payload, source_id=source_id, received_at=received_at, blocked=blocked, max_events=max_events
            )
        if dialect == "converge":
            postback = msgspec.convert(obj, converge.ConvergePayload)
            return [
                converge.to_batch(postback, source_id=source_id, received_at=received_at, blocked=blocked)
            ]
        if dialect == "loymax":
            web_event = msgspec.convert(obj, loymax.WebEvent)
            return [loymax.to_batch(web_event, source_id=source_id, received_at=received_at, blocked=blocked)]
        if dialect == "segment":
            if isinstance(obj.get("batch"), list):
                seg_batch = msgspec.convert(obj, segment.Batch)
                messages, context = seg_batch.batch, seg_batch.context
                paths = [f"$.batch[{i}]" for i in range(len(messages))]
            else:
                messages, context, paths = [msgspec.convert(obj, segment.Message)], {}, ["$"]
            return segment.to_batches(
                messages,
                source_id=source_id,
                batch_context=context,
                received_at=received_at,
                blocked=blocked,
                max_events=max_events,
                paths=paths,
            )
    except msgspec.ValidationError as exc:
        raise Rejected(f"{dialect}: {exc}") from None
    except DomainError as exc:
        raise Rejected(f"{dialect}: {exc.detail}") from None
    raise Rejected(f"unknown dialect {dialect!r}")


@dataclass
class ImportReport:
    lines: int = 0
    saved: int = 0
    duplicates: int = 0
    rejected: int = 0
    merges: int = 0
    refused: int = 0
    seconds: float = 0.0
    dialects: dict[str, int] = field(default_factory=dict)
    rejects_file: str | None = None

    def add(self, results: Iterable[IngestResult]) -> None:
        for r in results:
            self.saved += r.saved
            self.duplicates += r.duplicates
            self.merges += len(r.merges)
            self.refused += len(r.refused)


@dataclass
class _Line:
    number: int
    text: bytes
    batches: list[IngestBatch]


RejectSink = Callable[[int, str, bytes], None]


class BulkImporter:
    """Translate and write lines in chunks; `on_reject(line_number, reason, text)` hears of every bad line."""

    def __init__(
        self,
        service: IngestionService,
        *,
        source_id: str,
        dialect: str = "auto",
        batch_size: int = 100,
        batch_events: int = 1000,
        blocked: Iterable[str] = (),
        max_events: int = 1000,
        on_reject: RejectSink | None = None,
        parallel: int = 1,
    ) -> None:
        if dialect != "auto" and dialect not in DIALECTS:
            raise ValueError(f"dialect must be auto or one of {', '.join(DIALECTS)}")
        if batch_size < 1 or batch_events < 1:
            raise ValueError("batch size and batch events must be positive")
        self._service = service
        self._source_id = source_id
        self._dialect = dialect
        self._batch_size = batch_size
        self._batch_events = batch_events
        self._blocked = frozenset(blocked)
        self._max_events = max_events
        self._on_reject = on_reject
        if parallel < 1:
            raise ValueError("parallel must be positive")
        # Chunks in flight at once; one waits for those it shares an identity with (see `run`).
        self._parallel = parallel
        self.report = ImportReport()

    def _reject(self, number: int, reason: str, text: bytes) -> None:
        self.report.rejected += 1
        if self._on_reject is not None:
            self._on_reject(number, reason, text)

    def _parse(self, number: int, text: bytes) -> _Line | None:
        try:
            obj = _decoder.decode(text)
        except msgspec.DecodeError as exc:
            self._reject(number, f"malformed JSON: {exc}", text)
            return None
        if not isinstance(obj, dict):
            self._reject(number, "not a JSON object", text)
            return None
        dialect = detect_dialect(obj) if self._dialect == "auto" else self._dialect
        if dialect is None:
            self._reject(number, "dialect not recognised (see `idgraph import --help`)", text)
            return None
        try:
            batches = translate(
                obj,
                dialect,
                source_id=self._source_id,
                received_at=datetime.now(UTC),
                blocked=self._blocked,
                max_events=self._max_events,
            )
        except Rejected as exc:
            self._reject(number, str(exc), text)
            return None
        batches = [with_import_ids(batch, number, text, i) for i, batch in enumerate(batches)]
        self.report.dialects[dialect] = self.report.dialects.get(dialect, 0) + 1
        return _Line(number, text, batches)

    async def _write(self, chunk: list[_Line]) -> None:
        batches = [b for line in chunk for b in line.batches]
        if not batches:
            return
        try:
            self.report.add(await self._service.ingest_many(batches))
            return
        except DriverError:
            raise  # Neo4j is away: no line is to blame, stop the import
        except Exception:
            if len(chunk) == 1:
                raise
        for line in chunk:  # the chunk failed as a whole: find the lines that fail on their own
            try:
                if line.batches:
                    self.report.add(await self._service.ingest_many(line.batches))
            except DriverError:
                raise
            except Exception as exc:
                self._reject(line.number, f"write failed: {type(exc).__name__}: {exc}", line.text)

    async def run(
        self, lines: Iterable[tuple[int, bytes]], progress: Callable[[], None] | None = None
    ) -> None:
        """Import numbered lines (blank ones are skipped)."""
        started = time.perf_counter()
        chunk: list[_Line] = []
        chunk_events = 0
        in_flight: dict[asyncio.Task[None], set[str]] = {}
        try:
            for number, text in lines:
                if not text.strip():
                    continue
                self.report.lines += 1
                parsed = self._parse(number, text)
                if parsed is not None:
                    chunk.append(parsed)
                    chunk_events += sum(len(batch.events) for batch in parsed.batches)
                if len(chunk) >= self._batch_size or chunk_events >= self._batch_events:
                    await self._launch(chunk, in_flight)
                    chunk, chunk_events = [], 0
                    if progress is not None:
                        progress()
            if chunk:
                await self._launch(chunk, in_flight)
            while in_flight:
                await self._settle(in_flight, list(in_flight))
        finally:
            for task in in_flight:
                task.cancel()
        if progress is not None:
            progress()
        self.report.seconds += time.perf_counter() - started

    async def _launch(self, chunk: list[_Line], in_flight: dict[asyncio.Task[None], set[str]]) -> None:
        """Write `chunk` beside the chunks in flight, once none of them names an identity it names (an
        alias, a session, a claimed profile or an event id: `identity_keys`) and a slot is free. A person's
        lines are written in file order; chunks of different people are written in parallel."""
        keys = {k for line in chunk for batch in line.batches for k in round_groups.identity_keys(batch)}
        while True:
            overlapping = [task for task, held in in_flight.items() if held & keys]
            if not overlapping and len(in_flight) < self._parallel:
                break
            await self._settle(in_flight, overlapping or list(in_flight))
        in_flight[asyncio.create_task(self._write_chunk(chunk))] = keys

    @staticmethod
    async def _settle(
        in_flight: dict[asyncio.Task[None], set[str]], waiting: list[asyncio.Task[None]]
    ) -> None:
        done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        for task in done:
            del in_flight[task]
            task.result()  # a DriverError (Neo4j away) stops the import

    async def _write_chunk(self, chunk: list[_Line]) -> None:
        try:
            await self._write(chunk)
        except DriverError:
            raise
        except Exception as exc:  # a one-line chunk that failed
            line = chunk[0]
            self._reject(line.number, f"write failed: {type(exc).__name__}: {exc}", line.text)


def with_import_ids(batch: IngestBatch, number: int, text: bytes, index: int = 0) -> IngestBatch:
    """`batch` (the line's `index`th) with an id for each event the client gave none:
    `import:<line>:<digest of the line>:<index>.<n>`.

    Deduplication goes by the client's event id; an event without one would be stored again each time the
    same file is imported. With this id, running an import again (after an interruption, say) stores
    nothing twice."""
    if all(ev.external_id is not None for ev in batch.events):
        return batch
    digest = hashlib.sha256(text).hexdigest()[:32]
    events = [
        ev
        if ev.external_id is not None
        else msgspec.structs.replace(ev, external_id=f"import:{number}:{digest}:{index}.{n}")
        for n, ev in enumerate(batch.events)
    ]
    return msgspec.structs.replace(batch, events=events)


def numbered_lines(stream: IO[bytes]) -> Iterator[tuple[int, bytes]]:
    for number, text in enumerate(stream, start=1):
        yield number, text.rstrip(b"\r\n")


class RejectsFile:
    """The rejects file, created at the first rejected line: `{"line", "reason", "text"}` per line."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._file: IO[bytes] | None = None

    def __call__(self, number: int, reason: str, text: bytes) -> None:
        if self._file is None:
            self._file = open(self.path, "wb")  # noqa: SIM115 - closed by close()
        doc = {"line": number, "reason": reason, "text": text.decode("utf-8", "replace")}
        self._file.write(_encoder.encode(doc) + b"\n")
        self._file.flush()

    @property
    def written(self) -> bool:
        return self._file is not None

    def close(self) -> None:
        if self._file is not None:
            self._file.close()


class Progress:
    """A progress bar on stderr by bytes read: redrawn in place on a terminal, a line every 10 s otherwise."""

    def __init__(self, total_bytes: int, report: ImportReport, stream: IO[bytes], out: IO[str] = sys.stderr):
        self._total = max(total_bytes, 1)
        self._report = report
        self._stream = stream
        self._out = out
        self._tty = out.isatty()
        self._started = time.monotonic()
        self._last = 0.0

    def __call__(self, final: bool = False) -> None:
        now = time.monotonic()
        if not final and now - self._last < (0.25 if self._tty else 10.0):
            return
        self._last = now
        done = min(self._stream.tell(), self._total) if not self._stream.closed else self._total
        frac = done / self._total
        elapsed = now - self._started
        rate = self._report.lines / elapsed if elapsed > 0 else 0.0
        bar = "#" * int(frac * 30)
        text = (
            f"[{bar:<30}] {frac:6.1%}  {self._report.lines} lines  {rate:,.0f} lines/s  "
            f"saved {self._report.saved}  dup {self._report.duplicates}  rejected {self._report.rejected}"
        )
        if self._tty:
            self._out.write("\r" + text + ("\n" if final else ""))
        else:
            self._out.write(text + "\n")
        self._out.flush()
