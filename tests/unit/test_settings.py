"""Settings from the environment: defaults, and every invalid value refused at start."""

from __future__ import annotations

import pytest

from app.settings import SettingsError, load_settings


def test_settings_defaults_and_validation() -> None:
    s = load_settings({})
    assert (s.host, s.port, s.neo4j_uri, s.max_body_bytes) == ("127.0.0.1", 8000, None, 1024 * 1024)
    # The limits of the identity rules' defaults (API.md's table, graph_model.identity_rules; 03db234) ...
    assert s.merge_limits.per_type == {"user_id": 1, "customer_id": 1, "email": 5, "phone": 5}
    # ... with IDGRAPH_MERGE_LIMITS laid over them type by type (0: no limit).
    assert load_settings({"IDGRAPH_MERGE_LIMITS": "email=3,user_id=0"}).merge_limits.per_type == {
        "customer_id": 1,
        "email": 3,
        "phone": 5,
    }
    for env in (
        {"IDGRAPH_PORT": "x"},
        {"IDGRAPH_PORT": "70000"},
        {"IDGRAPH_LOG_FORMAT": "xml"},
        {"NEO4J_URI": "localhost"},
        {"IDGRAPH_MERGE_LIMITS": "email"},
    ):
        with pytest.raises(SettingsError):
            load_settings(env)


@pytest.mark.parametrize("mode", ["truncate", "drop"])
def test_ip_mode_setting(mode: str) -> None:
    assert load_settings({"IDGRAPH_IP_MODE": mode}).ip_mode == mode
    with pytest.raises(SettingsError):
        load_settings({"IDGRAPH_IP_MODE": "keep"})
    with pytest.raises(SettingsError):
        load_settings({"IDGRAPH_IP_MODE": "hash"})
    assert load_settings({"IDGRAPH_IP_MODE": "hash", "IDGRAPH_IP_HASH_KEY": "s"}).ip_mode == "hash"


def test_settings_validate_the_purge_interval() -> None:
    assert load_settings({}).purge_interval_seconds == 3600
    assert load_settings({"IDGRAPH_PURGE_INTERVAL_SECONDS": "0"}).purge_interval_seconds == 0
    with pytest.raises(ValueError):
        load_settings({"IDGRAPH_PURGE_INTERVAL_SECONDS": "-1"})
