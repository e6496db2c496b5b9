"""Concurrent writers under the v2 rules: strong and weak identifiers mixed, sessions reused, 8 writers.

What must hold in any commit order: every alias and session in exactly one profile; no profile over a limit;
two strong aliases share a profile only if accepted evidence joins them through strong aliases; sizes and
handles consistent; and the rules replayed one request at a time in the order the graph recorded (each
request's stamp, `identity_seq`, a per-profile Lamport clock) give the same partition. The stream and the
checks are in tests/oracles.py (tests/system/test_scale_out.py sends it to two API processes).
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx

from tests.helpers import LiveServer
from tests.oracles import check_rules, rules_stream, send_all


def test_mixed_strong_and_weak_links_from_8_writers_keep_the_rules_invariants(
    live_server: LiveServer, graph: Any
) -> None:
    run = uuid.uuid4().hex[:8]
    with httpx.Client() as http:
        source = http.post(f"{live_server.url}/sources", json={"name": "rules-v2"}, headers=live_server.admin)
        source_id = source.json()["id"]
    bodies = rules_stream(run, source_id)
    answers = send_all([live_server.url], bodies)
    print(f"\nrules v2 under concurrency: {check_rules(graph, run, bodies, answers)}")
