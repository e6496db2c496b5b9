"""Group commit (IDGRAPH_GROUP_COMMIT) under the identity concurrency oracles: requests that share a
transaction keep exactly-once storage and the identity rules' outcome."""

from __future__ import annotations

from typing import Any

from tests.api import test_identity_concurrency as links_oracle
from tests.api import test_identity_rules_concurrency as rules_oracle
from tests.helpers import serve_app


def test_the_concurrency_oracles_hold_with_group_commit(settings_env: dict[str, str], graph: Any) -> None:
    with serve_app({**settings_env, "IDGRAPH_GROUP_COMMIT": "2"}) as server:
        links_oracle.test_concurrent_links_match_union_find_oracle(server, graph)
        rules_oracle.test_mixed_strong_and_weak_links_from_8_writers_keep_the_rules_invariants(server, graph)
