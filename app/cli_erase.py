"""`idgraph erase --alias URN | --profile ID`: the right to be forgotten from the command line (app.services.erase)."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import msgspec

from app.settings import Settings


async def _erase(settings: Settings, args: argparse.Namespace) -> int:
    from app.cli import connected_driver
    from app.services.erase import EraseService
    from app.store.catalog import catalog
    from graph_model.urn import InvalidUrn, parse_urn

    async with connected_driver(settings) as (settings, driver):
        service = EraseService(driver, catalog(), settings.neo4j_database)
        profile_id = args.profile
        if args.alias:
            try:
                urn = str(parse_urn(args.alias))
            except InvalidUrn as exc:
                print(f"idgraph: {exc}", file=sys.stderr)
                return 2
            profile_id = await service.profile_of_alias(urn)
            if profile_id is None:
                print("idgraph: no profile holds that alias", file=sys.stderr)
                return 1
        report = await service.erase_profile(profile_id)
        if report is None:
            print("idgraph: no such profile", file=sys.stderr)
            return 1
        print(msgspec.json.encode(report).decode())
        return 0


def cmd_erase(settings: Settings, args: argparse.Namespace) -> int:
    from app.logging import configure_logging

    configure_logging(msgspec.structs.replace(settings, log_level="WARNING"))
    return asyncio.run(_erase(settings, args))


def add_parser(sub: Any) -> None:
    erase = sub.add_parser(
        "erase",
        help="erase a profile's whole component (events, sessions, aliases, audit, merged ids)",
    )
    which = erase.add_mutually_exclusive_group(required=True)
    which.add_argument("--alias", help="the profile holding this URN (normalised first)")
    which.add_argument("--profile", help="the profile with this id (or any id merged into it)")
    erase.set_defaults(func=cmd_erase)
