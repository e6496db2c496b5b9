"""Concurrent writers on overlapping identities, checked against a union-find oracle.

Each request is a new session carrying two aliases from a small pool, so links collide constantly and
components merge from many sides at once. Afterwards the graph's partition of aliases must be exactly the
oracle's, and the component bookkeeping (one profile per member, sizes, one-hop handles) must hold. The stream
and the checks are in tests/oracles.py (tests/system/test_scale_out.py sends it to two API processes).
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx

from tests.helpers import LiveServer
from tests.oracles import check_union_find, send_all, union_find_stream


def test_concurrent_links_match_union_find_oracle(live_server: LiveServer, graph: Any) -> None:
    run = uuid.uuid4().hex[:8]
    with httpx.Client() as http:
        source = http.post(f"{live_server.url}/sources", json={"name": "oracle"}, headers=live_server.admin)
        source_id = source.json()["id"]
    bodies, oracle = union_find_stream(run, source_id)
    started = time.monotonic()
    send_all([live_server.url], bodies)
    elapsed = time.monotonic() - started
    expected = check_union_find(graph, run, bodies, oracle)
    print(
        f"\noracle: {len(bodies)} links from 8 writers in {elapsed:.1f}s, {len(expected)} components, "
        f"largest {max(len(g) for g in expected)} aliases"
    )
