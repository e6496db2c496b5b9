"""The identifier rules as configuration: API.md's defaults, a TOML file over them, validated at start-up."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.settings import SettingsError, load_settings
from graph_model.identity_rules import DEFAULTS, InvalidRules, parse_rules
from graph_model.pii import is_blocked


def test_defaults_are_the_contract_table() -> None:
    table = [(r.type, r.strength, r.limit, r.priority) for r in DEFAULTS.table()]
    assert table == [
        ("user_id", "strong", 1, 1),
        ("customer_id", "strong", 1, 2),
        ("email", "strong", 5, 3),
        ("phone", "strong", 5, 4),
        ("anonymous_id", "weak", None, 5),
        ("checkout_token", "weak", None, 5),
        ("device_id", "weak", None, 5),
    ]


def test_a_type_no_rule_names_is_weak_unlimited_and_ranks_alphabetically_among_the_weak() -> None:
    rule = DEFAULTS.rule("loyalty_card")
    assert (rule.strength, rule.limit, rule.priority) == ("weak", None, 5)
    ranked = sorted(["device_id", "loyalty_card", "email", "anonymous_id"], key=DEFAULTS.rank)
    assert ranked == ["email", "anonymous_id", "device_id", "loyalty_card"]


def test_a_rules_file_overrides_field_by_field_and_adds_types() -> None:
    rules = parse_rules(
        '[types.email]\nlimit = 2\n\n[types.loyalty_card]\nstrength = "strong"\nlimit = 1\npriority = 2\n'
        "\n[types.device_id]\nlimit = 0\n"
    )
    assert (rules.rule("email").strength, rules.rule("email").limit, rules.rule("email").priority) == (
        "strong",
        2,
        3,
    )
    assert rules.rule("loyalty_card").strong and rules.limit("loyalty_card") == 1
    assert rules.limit("device_id") is None


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("[types.email]\nlimt = 2\n", "types.email.limt"),
        ('[types.email]\nstrength = "hard"\n', "types.email.strength"),
        ("[types.email]\npriority = 0\n", "types.email.priority"),
        ("[types.email]\nlimit = -1\n", "types.email.limit"),
        ('[types.email]\nlimit = "5"\n', "types.email.limit"),
        ("[typez.email]\n", "'typez'"),
        ('[types."Bad-Name"]\n', "'Bad-Name'"),
        ("types = 3\n", "types must be a table"),
        ("[types.email\n", "not valid TOML"),
    ],
)
def test_a_bad_rules_file_is_refused_naming_the_bad_key(text: str, named: str) -> None:
    with pytest.raises(InvalidRules) as exc:
        parse_rules(text)
    assert named in str(exc.value)


def test_settings_read_the_rules_file_at_start_up(tmp_path: Path) -> None:
    good = tmp_path / "rules.toml"
    good.write_text("[types.email]\nlimit = 3\n")
    settings = load_settings({"IDGRAPH_IDENTITY_RULES": str(good)})
    assert settings.identity_rules.limit("email") == 3
    assert settings.merge_limits.per_type["email"] == 3

    bad = tmp_path / "bad.toml"
    bad.write_text('[types.phone]\nstrength = "medium"\n')
    with pytest.raises(SettingsError, match=r"types\.phone\.strength"):
        load_settings({"IDGRAPH_IDENTITY_RULES": str(bad)})
    with pytest.raises(SettingsError, match="cannot read"):
        load_settings({"IDGRAPH_IDENTITY_RULES": str(tmp_path / "missing.toml")})


def test_merge_limits_variable_lays_over_the_rules() -> None:
    settings = load_settings({"IDGRAPH_MERGE_LIMITS": "email=2,user_id=0"})
    assert settings.identity_rules.limit("email") == 2
    assert settings.identity_rules.limit("user_id") is None
    assert settings.identity_rules.is_strong("user_id")


@pytest.mark.parametrize("value", ["", "  ", '""', "''", "guest", "TRUE", "false", "Null", "[object Object]"])
def test_blocked_values_of_the_contract_name_nobody(value: str) -> None:
    assert is_blocked(value)


@pytest.mark.parametrize("value", ["ann@example.com", "C-1", "truely", "00"])
def test_real_values_are_not_blocked(value: str) -> None:
    assert not is_blocked(value)
