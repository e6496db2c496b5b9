"""`idgraph`: serve the API, manage the local Neo4j, register sources, import NDJSON events, purge expired
anonymous data, verify computed traits, erase a profile, re-derive identity (`identity renormalize`).

`idgraph serve` uses NEO4J_URI when it is set; otherwise it starts the embedded Neo4j under IDGRAPH_DATA_DIR
for as long as it runs, and stops it on the way out.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import sys
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import msgspec

from app.settings import Settings, SettingsError, load_settings
from graph_model.urn import set_default_phone_region

if TYPE_CHECKING:
    from app.services.container import Services


def neo4j_data_dir(settings: Settings) -> Path:
    return Path(settings.data_dir) / "neo4j"


def _local_uri(settings: Settings) -> str | None:
    from app import neo4j_local

    st = neo4j_local.status(neo4j_data_dir(settings))
    return f"bolt://127.0.0.1:{st['port']}" if st else None


def _connected_settings(settings: Settings) -> Settings:
    """Settings with a reachable NEO4J_URI: the configured one, or the local Neo4j if it is running."""
    if settings.neo4j_uri:
        return settings
    uri = _local_uri(settings)
    if uri is None:
        raise SystemExit(
            "no Neo4j: set NEO4J_URI, or start the local one (`idgraph neo4j start` or `make run`)"
        )
    return settings.with_neo4j_uri(uri)


@asynccontextmanager
async def connected_services(settings: Settings, *, schema: bool = True) -> AsyncIterator[Services]:
    """The services on the configured or the running local Neo4j (with the schema in place unless `schema`
    is false), the driver closed on the way out: what every command that talks to the graph starts with."""
    from app.services.container import Services
    from app.store.driver import create_driver

    settings = _connected_settings(settings)
    driver = create_driver(settings)
    try:
        services = Services.build(settings, driver)
        if schema:
            await services.store.bootstrap_schema()
        yield services
    finally:
        await driver.close()


def run_quietly(settings: Settings, command: Callable[[], Coroutine[Any, Any, int]]) -> int:
    """Run one async command with the logs at WARNING (its output is the answer, not the logs)."""
    from app.logging import configure_logging

    configure_logging(msgspec.structs.replace(settings, log_level="WARNING"))
    # Neo4j's notices about labels a fresh database has not seen yet would drown the output.
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)
    return asyncio.run(command())


async def _bootstrap_schema(settings: Settings) -> int:
    async with connected_services(settings):
        return 0


def cmd_serve(settings: Settings, args: argparse.Namespace) -> int:
    import uvicorn

    from app import neo4j_local

    local = None
    if not settings.neo4j_uri:
        print(
            f"starting the local Neo4j {neo4j_local.NEO4J_VERSION} (data in {neo4j_data_dir(settings)}) ...",
            file=sys.stderr,
            flush=True,
        )
        local = neo4j_local.start(
            neo4j_data_dir(settings), heap=args.neo4j_heap, page_cache=args.neo4j_page_cache
        )
        os.environ["NEO4J_URI"] = local.uri
        print(f"Neo4j ready at {local.uri}", file=sys.stderr, flush=True)
    workers = args.workers if args.workers is not None else settings.workers
    if workers < 1:
        print("idgraph: --workers must be positive", file=sys.stderr)
        return 2
    try:
        if workers > 1:
            # The schema once, here, before the workers start: each worker's start-up then finds it in place
            # instead of N processes creating the same constraints at once.
            run_quietly(settings, lambda: _bootstrap_schema(settings.with_neo4j_uri(os.environ["NEO4J_URI"])))
        uvicorn.run(
            "app.main:app_from_env",
            factory=True,
            host=settings.host,
            port=settings.port,
            # N processes, one listening socket: each worker has its own driver, caches and event loop
            # (README "Scaling out").
            workers=workers,
            log_config=None,
            access_log=False,
            proxy_headers=False,
            # Slow clients: idle keep-alive connections close after 5 s, headers may not grow past 64 KiB,
            # and a body must keep arriving (IDGRAPH_BODY_READ_TIMEOUT_SECONDS, app.http.limits).
            timeout_keep_alive=5,
            h11_max_incomplete_event_size=64 * 1024,
        )
    finally:
        if local is not None and local.owned:
            print("stopping the local Neo4j ...", file=sys.stderr, flush=True)
            local.stop()
    return 0


def cmd_neo4j(settings: Settings, args: argparse.Namespace) -> int:
    from app import neo4j_local

    data_dir = neo4j_data_dir(settings)
    if args.action == "start":
        handle = neo4j_local.start_background(
            data_dir, port=args.port, heap=args.neo4j_heap, page_cache=args.neo4j_page_cache
        )
        print(
            f"Neo4j {neo4j_local.NEO4J_VERSION} running at {handle.uri} (pid {handle.pid}, data {data_dir})"
        )
        print(f"export NEO4J_URI={handle.uri}")
        return 0
    if args.action == "stop":
        stopped = neo4j_local.stop(data_dir)
        print("stopped" if stopped else "not running")
        return 0
    st = neo4j_local.status(data_dir)
    if st is None:
        print("not running")
        return 3
    print(f"running at bolt://127.0.0.1:{st['port']} (pid {st['pid']}, data {data_dir})")
    return 0


async def _sources(settings: Settings, args: argparse.Namespace) -> int:
    from app.services.sources import SourceExists

    async with connected_services(settings) as services:
        if args.action == "add":
            try:
                source = await services.sources.create(args.name, args.id)
            except SourceExists:
                print(f"source {args.id!r} already exists", file=sys.stderr)
                return 1
            print(msgspec.json.encode(source).decode())
            return 0
        for source in await services.sources.list():
            print(msgspec.json.encode(source).decode())
        return 0


def cmd_sources(settings: Settings, args: argparse.Namespace) -> int:
    return run_quietly(settings, lambda: _sources(settings, args))


async def _purge(settings: Settings) -> int:
    async with connected_services(settings) as services:
        report = await services.retention.purge()
        print(msgspec.json.encode(report).decode())
        return 0


def cmd_purge(settings: Settings, args: argparse.Namespace) -> int:
    if args.days is not None:
        if args.days < 1:
            print("idgraph: --days must be positive", file=sys.stderr)
            return 2
        settings = msgspec.structs.replace(settings, anonymous_retention_days=args.days)
    return run_quietly(settings, lambda: _purge(settings))


async def _traits_verify(settings: Settings, profile_ids: list[str] | None) -> int:
    async with connected_services(settings, schema=False) as services:
        report = await services.traits.verify(profile_ids)
        for mismatch in report.mismatches:
            print(msgspec.json.encode(mismatch).decode())
        print(
            f"{report.profiles} profiles checked, {report.mismatched} with traits that differ between"
            " the stored fold, the traversal and a recomputation over their events",
            file=sys.stderr,
        )
        return 1 if report.mismatched else 0


async def _traits_rebuild(settings: Settings, profile_ids: list[str] | None) -> int:
    async with connected_services(settings) as services:
        done = await services.traits.rebuild(profile_ids)
        print(f"{done} profiles' traits folds recomputed from their events", file=sys.stderr)
        return 0


def cmd_traits(settings: Settings, args: argparse.Namespace) -> int:
    if args.action == "rebuild":
        return run_quietly(settings, lambda: _traits_rebuild(settings, args.profile or None))
    return run_quietly(settings, lambda: _traits_verify(settings, args.profile or None))


async def _erase(settings: Settings, args: argparse.Namespace) -> int:
    from graph_model.urn import InvalidUrn, parse_urn

    async with connected_services(settings) as services:
        profile_id = args.profile
        if args.alias:
            try:
                urn = str(parse_urn(args.alias))
            except InvalidUrn as exc:
                print(f"idgraph: {exc}", file=sys.stderr)
                return 2
            profile_id = await services.erase.profile_of_alias(urn)
            if profile_id is None:
                print("idgraph: no profile holds that alias", file=sys.stderr)
                return 1
        report = await services.erase.erase_profile(profile_id)
        if report is None:
            print("idgraph: no such profile", file=sys.stderr)
            return 1
        print(msgspec.json.encode(report).decode())
        return 0


def cmd_erase(settings: Settings, args: argparse.Namespace) -> int:
    return run_quietly(settings, lambda: _erase(settings, args))


async def _import(settings: Settings, args: argparse.Namespace) -> int:
    from app.services.bulk_import import BulkImporter, Progress, RejectsFile, numbered_lines

    path = Path(args.file)
    if not path.is_file():
        print(f"idgraph: no such file {str(path)!r}", file=sys.stderr)
        return 2
    async with connected_services(settings) as services:
        rejects = RejectsFile(args.rejects or f"{path}.rejects.ndjson")
        try:
            source = await services.sources.get(args.source)
            if source is None or not source.enabled:
                state = "unknown" if source is None else "disabled"
                print(f"idgraph: {state} source {args.source!r} (`idgraph sources add`)", file=sys.stderr)
                return 2
            importer = BulkImporter(
                services.bulk_ingestion,
                source_id=source.id,
                dialect=args.dialect,
                batch_size=args.batch_size,
                batch_events=args.batch_events,
                blocked=settings.blocked_values,
                max_events=settings.max_events_per_request,
                on_reject=rejects,
                parallel=args.parallel,
            )
            with path.open("rb") as stream:
                progress = Progress(path.stat().st_size, importer.report, stream)
                await importer.run(numbered_lines(stream), None if args.quiet else progress)
                if not args.quiet:
                    progress(final=True)
        finally:
            rejects.close()
    report = importer.report
    report.rejects_file = rejects.path if rejects.written else None
    print(msgspec.json.encode(report).decode())
    print(
        f"{report.lines} lines in {report.seconds:.1f} s: {report.saved} events saved, "
        f"{report.duplicates} duplicates, {report.rejected} lines rejected"
        + (f" (see {report.rejects_file})" if report.rejects_file else ""),
        file=sys.stderr,
    )
    return 1 if report.rejected else 0


def cmd_import(settings: Settings, args: argparse.Namespace) -> int:
    if args.batch_size < 1 or args.batch_events < 1:
        print("idgraph: --batch-size and --batch-events must be positive", file=sys.stderr)
        return 2
    if args.parallel < 1:
        print("idgraph: --parallel must be positive", file=sys.stderr)
        return 2
    return run_quietly(settings, lambda: _import(settings, args))


async def _identity_renormalize(settings: Settings, dry_run: bool) -> int:
    async with connected_services(settings) as services:
        report = await services.renormalize.run(dry_run=dry_run)
    print(msgspec.json.encode(report).decode())
    print(
        f"{report.phones} phone aliases: {len(report.renamed)} renamed or folded, {len(report.merged)}"
        f" profile merges, {len(report.refused)} joins refused, {len(report.unparsable)} not phone numbers"
        " (left as they are)" + (" -- dry run, nothing written" if dry_run else ""),
        file=sys.stderr,
    )
    return 0


def cmd_identity_renormalize(settings: Settings, args: argparse.Namespace) -> int:
    return run_quietly(settings, lambda: _identity_renormalize(settings, args.dry_run))


def _progress_bar(stage: str, done: int, total: int) -> None:
    """One line on stderr, rewritten in place: the stage and how far it is."""
    width = 30
    filled = width * done // total if total else width
    end = "\n" if done >= total else ""
    print(f"\r{stage:8} [{'#' * filled}{'.' * (width - filled)}] {done}/{total}", end=end, file=sys.stderr)


async def _identity_rebuild(settings: Settings, dry_run: bool) -> int:
    async with connected_services(settings) as services:
        report = await services.rebuild.rebuild(dry_run=dry_run, progress=_progress_bar)
    print(msgspec.json.encode(report).decode())
    print(
        f"{report.units} units of evidence replayed: {report.change_sets} change sets, "
        f"{len(report.profiles_split)} profiles split, {len(report.profiles_merged)} merged, "
        f"{report.sessions_moved} sessions and {report.aliases_moved} aliases moved"
        + (
            " -- dry run, nothing written"
            if dry_run
            else f"; {report.applied} applied, {report.skipped} to rerun"
        ),
        file=sys.stderr,
    )
    return 1 if report.skipped else 0


def cmd_identity_rebuild(settings: Settings, args: argparse.Namespace) -> int:
    return run_quietly(settings, lambda: _identity_rebuild(settings, args.dry_run))


def add_identity_commands(sub: Any) -> None:
    """`idgraph identity <action>`: commands that re-derive identity. Each action is a parser of its own
    under `actions`, with its own `func`."""
    identity = sub.add_parser("identity", help="re-derive identity from what the graph recorded")
    actions = identity.add_subparsers(dest="action", required=True)
    renormalize = actions.add_parser(
        "renormalize",
        help="bring stored phone aliases to E.164 (IDGRAPH_DEFAULT_PHONE_REGION); one number's aliases become"
        " one, and their profiles merge as the identity rules allow (audited); prints the changes as JSON",
    )
    renormalize.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    renormalize.set_defaults(func=cmd_identity_renormalize)
    rebuild = actions.add_parser(
        "rebuild",
        help="re-derive every profile from the recorded links under the current identity rules (audited,"
        " while the API serves; safe to interrupt and run again); prints the changes as JSON (exit 1: some"
        " moved meanwhile, run again)",
    )
    rebuild.add_argument("--dry-run", action="store_true", help="print what would change; write nothing")
    rebuild.set_defaults(func=cmd_identity_rebuild)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="idgraph", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the API (starts the local Neo4j when NEO4J_URI is unset)")
    serve.add_argument(
        "--workers",
        type=int,
        default=None,
        help="API processes sharing the port (default: IDGRAPH_WORKERS, else 1)",
    )
    serve.set_defaults(func=cmd_serve)

    neo4j = sub.add_parser("neo4j", help="manage the local embedded Neo4j")
    neo4j.add_argument("action", choices=["start", "stop", "status"])
    neo4j.add_argument("--port", type=int, default=None, help="Bolt port (default: a free one)")
    neo4j.set_defaults(func=cmd_neo4j)

    for p in (serve, neo4j):
        p.add_argument("--neo4j-heap", default=os.environ.get("IDGRAPH_NEO4J_HEAP", "1g"))
        p.add_argument("--neo4j-page-cache", default=os.environ.get("IDGRAPH_NEO4J_PAGE_CACHE", "512m"))

    sources = sub.add_parser("sources", help="register and list event sources")
    sources_sub = sources.add_subparsers(dest="action", required=True)
    add = sources_sub.add_parser("add", help="register a source")
    add.add_argument("name")
    add.add_argument("--id", default=None, help="the source id (default: a new UUID)")
    sources_sub.add_parser("list", help="list sources")
    sources.set_defaults(func=cmd_sources)

    purge = sub.add_parser(
        "purge", help="purge anonymous sessions, profiles and events inactive past the retention period"
    )
    purge.add_argument(
        "--days", type=int, default=None, help="retention in days (default: IDGRAPH_ANONYMOUS_RETENTION_DAYS)"
    )
    purge.set_defaults(func=cmd_purge)

    imp = sub.add_parser(
        "import",
        help="import NDJSON events of any dialect through the ingestion service (exit 1: lines rejected)",
        description="One JSON object per line, in the wire format of a dialect (detected per line with"
        " --dialect auto: Unomi eventType -> esp; batch[] or a Segment type with user/anonymous/previous id"
        " -> segment; method/event_name/eventName -> converge; event_type -> loymax; events[] or session ->"
        " tracardi). --batch-size lines (fewer once they hold --batch-events events) are written per"
        " transaction; a failing batch is retried line by line, and rejected lines are written with their"
        " line numbers and reasons to the rejects file.",
    )
    imp.add_argument("file", help="the NDJSON file")
    imp.add_argument("--source", required=True, help="the event source id of every line (must exist)")
    imp.add_argument(
        "--dialect", default="auto", choices=["auto", "tracardi", "esp", "converge", "loymax", "segment"]
    )
    imp.add_argument("--batch-size", type=int, default=100, help="lines per transaction (default 100)")
    imp.add_argument(
        "--batch-events",
        type=int,
        default=1000,
        help="a transaction closes early once its lines hold this many events (default 1000)",
    )
    imp.add_argument(
        "--parallel",
        type=int,
        default=4,
        help="chunks written at once; chunks that share an identity wait for each other (default 4)",
    )
    imp.add_argument("--rejects", default=None, help="where rejected lines go (default FILE.rejects.ndjson)")
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    imp.set_defaults(func=cmd_import)

    traits = sub.add_parser("traits", help="check computed traits")
    traits_sub = traits.add_subparsers(dest="action", required=True)
    verify = traits_sub.add_parser(
        "verify",
        help="compare stored traits, the traversal and a recomputation from raw events; list profiles "
        "whose traits differ (exit 1 if any)",
    )
    verify.add_argument("--profile", action="append", help="only this profile id (repeatable)")
    rebuild_folds = traits_sub.add_parser(
        "rebuild", help="recompute every profile's stored traits fold from its events (data from before it)"
    )
    rebuild_folds.add_argument("--profile", action="append", help="only this profile id (repeatable)")
    traits.set_defaults(func=cmd_traits)

    erase = sub.add_parser(
        "erase",
        help="erase a profile's whole component (events, sessions, aliases, audit, merged ids)",
    )
    which = erase.add_mutually_exclusive_group(required=True)
    which.add_argument("--alias", help="the profile holding this URN (normalised first)")
    which.add_argument("--profile", help="the profile with this id (or any id merged into it)")
    erase.set_defaults(func=cmd_erase)

    add_identity_commands(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        settings = load_settings()
    except SettingsError as exc:
        print(f"idgraph: {exc}", file=sys.stderr)
        return 2
    # One region per process, as in the API: the dialects (`import`) and the lookups (`erase --alias`).
    set_default_phone_region(settings.default_phone_region)
    result: int = args.func(settings, args)
    return result


if __name__ == "__main__":
    sys.exit(main())
