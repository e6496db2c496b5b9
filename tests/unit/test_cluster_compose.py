"""deploy/cluster/docker-compose.yml cannot run here (no Docker), so what can be checked without running it
is checked: every core advertises the names it is reached by and lists the same discovery endpoints, the
replicas reach the cluster over the routing scheme, and the load balancer checks the replicas' health."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

CLUSTER = Path(__file__).resolve().parents[2] / "deploy" / "cluster"


def _compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CLUSTER / "docker-compose.yml").read_text())
    return loaded


def test_three_enterprise_primaries_that_find_each_other_and_advertise_their_own_names() -> None:
    services = _compose()["services"]
    cores = sorted(name for name, s in services.items() if str(s.get("image", "")).startswith("neo4j:"))
    assert cores == ["core1", "core2", "core3"]
    endpoints = {services[c]["environment"]["NEO4J_dbms_cluster_discovery_v2_endpoints"] for c in cores}
    assert endpoints == {"core1:6000,core2:6000,core3:6000"}, "one list, the same on every member"
    for core in cores:
        s = services[core]
        env = s["environment"]
        assert s["image"] == "neo4j:5.26-enterprise" and s["hostname"] == core
        assert env["NEO4J_ACCEPT_LICENSE_AGREEMENT"] == "eval"
        assert env["NEO4J_initial_dbms_default__primaries__count"] == "3"
        assert env["NEO4J_dbms_cluster_discovery_version"] == "V2_ONLY"
        assert env["NEO4J_server_bolt_advertised__address"] == f"{core}:7687"
        assert env["NEO4J_server_cluster_advertised__address"] == f"{core}:6000"
        assert "neo4j" in s["networks"]["default"]["aliases"]
        assert "RETURN 1" in " ".join(s["healthcheck"]["test"])


def test_two_replicas_on_the_routing_scheme_behind_a_health_checked_balancer() -> None:
    services = _compose()["services"]
    replicas = [name for name, s in services.items() if "build" in s]
    assert sorted(replicas) == ["idgraph1", "idgraph2"]
    for name in replicas:
        env = services[name]["environment"]
        assert env["NEO4J_URI"].startswith("neo4j://")
        assert all(
            services[name]["depends_on"][c]["condition"] == "service_healthy" for c in ("core1", "core2")
        )
    # One replica purges anonymous data; two doing it at once would only contend.
    purging = [r for r in replicas if services[r]["environment"]["IDGRAPH_PURGE_INTERVAL_SECONDS"] != "0"]
    assert purging == ["idgraph1"]
    assert (CLUSTER.parent.parent / services["idgraph1"]["build"]["dockerfile"]).exists()

    haproxy = (CLUSTER / "haproxy.cfg").read_text()
    assert "http-check send meth GET uri /health" in haproxy
    assert set(re.findall(r"server (\S+) (\S+):8000 check", haproxy)) == {(r, r) for r in replicas}
