"""Load without loss (issue 9.3): k concurrent clients x n events with unique ids against the live server,
with repeats of already-sent ids and identify events that merge the clients' profiles mixed in. Afterwards
exactly the acknowledged events are in the graph, each once, and the answers' saved/duplicates add up.
"""

from __future__ import annotations

import threading
import uuid
from collections import Counter
from typing import Any

import httpx

from graph_model.identity_rules import DEFAULTS
from tests.helpers import LiveServer

CLIENTS = 6
EVENTS_PER_CLIENT = 50
BATCH = 5  # events per /track request
# The clients' identify events name emails from a ring of this many: client k names emails k and k+1, so
# every client's profile joins the next one's. As many as one profile may hold (the default email limit of
# the identity rules), so that every merge is allowed and the clients end as one profile.
EMAILS = DEFAULTS.rule("email").limit or CLIENTS


def test_concurrent_load_loses_nothing(live_server: LiveServer, graph: Any) -> None:
    source = "load-" + uuid.uuid4().hex[:8]
    r = httpx.post(
        f"{live_server.url}/sources", json={"id": source, "name": "load"}, headers=live_server.admin
    )
    assert r.status_code == 201, r.text
    lock = threading.Lock()
    acked: set[str] = set()
    sent_ids: list[str] = []
    totals: Counter[str] = Counter()
    failures: list[str] = []

    def client(k: int) -> None:
        session = f"load-{source}-{k}"
        mine: list[str] = []
        with httpx.Client(base_url=live_server.url, timeout=120) as http:
            for start in range(0, EVENTS_PER_CLIENT, BATCH):
                events: list[dict[str, Any]] = []
                for i in range(start, start + BATCH):
                    event_id = f"{session}-{i}"
                    if i % 7 == 3:
                        # identify: client k and k+1 share an email, so their profiles merge
                        email = f"load{(k + i % 2) % EMAILS}-{source}@example.com"
                        events.append({"type": "identify", "id": event_id, "properties": {"email": email}})
                    else:
                        events.append({"type": "view", "id": event_id, "properties": {"i": i}})
                    mine.append(event_id)
                repeats = [{"type": "view", "id": mine[j]} for j in range(0, len(mine) - BATCH, 9)][-2:]
                body = {"source": {"id": source}, "session": {"id": session}, "events": events + repeats}
                response = http.post("/track", json=body)
                with lock:
                    sent_ids.extend(e["id"] for e in events + repeats)
                    if response.status_code != 200:
                        failures.append(f"{response.status_code} {response.text[:200]}")
                        continue
                    acked.update(e["id"] for e in events + repeats)
                    answer = response.json()["events"]
                    totals["saved"] += answer["saved"]
                    totals["duplicates"] += answer["duplicates"]

    threads = [threading.Thread(target=client, args=(k,)) for k in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    assert not any(t.is_alive() for t in threads)

    records, _, _ = graph.execute_query(
        "MATCH (e:Event {source_id: $source}) WHERE NOT e.system RETURN e.external_id AS id, count(*) AS n",
        source=source,
    )
    stored = {r["id"]: r["n"] for r in records}
    merged, _, _ = graph.execute_query(
        "MATCH (s:Session)-[:BELONGS_TO]->(p:Profile) WHERE s.id STARTS WITH $prefix "
        "RETURN count(DISTINCT p) AS profiles",
        prefix=f"load-{source}-",
    )
    duplicates_in_graph = sum(n - 1 for n in stored.values())
    print(
        f"\nload: clients={CLIENTS} sent={len(sent_ids)} (unique {len(set(sent_ids))}) "
        f"acknowledged={len(acked)} stored={len(stored)} duplicates_answered={totals['duplicates']} "
        f"duplicates_in_graph={duplicates_in_graph} "
        f"profiles={merged[0]['profiles']}"
    )
    assert not failures, failures[:3]
    assert set(stored) == acked  # exactly the acknowledged events ...
    assert duplicates_in_graph == 0  # ... each once
    assert totals["saved"] == len(stored)
    assert totals["saved"] + totals["duplicates"] == len(sent_ids)
    assert merged[0]["profiles"] == 1  # the shared emails chained every client into one profile
