"""Identifier rules: for each alias type a strength, a limit per profile and a priority.

A *strong* identifier (a login id, an email) names one person; a *weak* one (a device or anonymous id, a
checkout token) names a device or a moment that several people may share. The rules decide which links
join profiles (`graph_model.identity.plan_identity`); this module only says what the rules are, where they
come from (the defaults of the contract, or a TOML file) and whether a rules file is valid.

A rules file overrides the defaults type by type, and field by field within a type:

    [types.loyalty_card]      # a type the defaults do not name
    strength = "strong"
    limit = 1
    priority = 3

    [types.email]
    limit = 3                 # strength and priority stay the defaults'

    [types.device_id]
    limit = 0                 # 0: no limit
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping
from typing import Any, Literal

import msgspec

Strength = Literal["strong", "weak"]
STRENGTHS: tuple[str, ...] = ("strong", "weak")
ALIAS_TYPE = re.compile(r"^[a-z0-9_]+$")

# Types the rules do not name are weak, unlimited, and rank after every named type of a higher priority;
# among themselves (and with the named weak types of this priority) alphabetically.
DEFAULT_WEAK_PRIORITY = 5


class InvalidRules(ValueError):
    """A rules file idgraph cannot use; the message names the file and the bad key."""


class AliasRule(msgspec.Struct, frozen=True):
    type: str
    strength: Strength
    limit: int | None  # the most values of this type one profile may hold; None: no limit
    priority: int  # 1 outranks 2: when evidence conflicts, the lower number wins

    @property
    def strong(self) -> bool:
        return self.strength == "strong"


DEFAULT_RULES: tuple[AliasRule, ...] = (
    AliasRule("user_id", "strong", 1, 1),
    AliasRule("customer_id", "strong", 1, 2),
    AliasRule("email", "strong", 5, 3),
    AliasRule("phone", "strong", 5, 4),
    AliasRule("anonymous_id", "weak", None, DEFAULT_WEAK_PRIORITY),
    AliasRule("checkout_token", "weak", None, DEFAULT_WEAK_PRIORITY),
    AliasRule("device_id", "weak", None, DEFAULT_WEAK_PRIORITY),
)

# The v1 rules in this table's terms: every type weak (so any shared alias joins), one user_id and one
# customer_id per profile, and v1's order of priority. Kept to measure v2 against (bench/quality.py).
V1_RULES: tuple[AliasRule, ...] = (
    AliasRule("user_id", "weak", 1, 1),
    AliasRule("customer_id", "weak", 1, 2),
    AliasRule("email", "weak", None, 3),
    AliasRule("phone", "weak", None, 4),
    AliasRule("anonymous_id", "weak", None, 6),
    AliasRule("device_id", "weak", None, 6),
)


class IdentityRules(msgspec.Struct, frozen=True):
    """The effective table: the named types, and the rule every other type gets."""

    types: Mapping[str, AliasRule]

    @classmethod
    def of(cls, rules: tuple[AliasRule, ...] | list[AliasRule]) -> IdentityRules:
        return cls({r.type: r for r in rules})

    def rule(self, alias_type: str) -> AliasRule:
        found = self.types.get(alias_type)
        return found if found is not None else AliasRule(alias_type, "weak", None, DEFAULT_WEAK_PRIORITY)

    def is_strong(self, alias_type: str) -> bool:
        return self.rule(alias_type).strong

    def limit(self, alias_type: str) -> int | None:
        return self.rule(alias_type).limit

    def rank(self, alias_type: str) -> tuple[int, str]:
        """Sort key of a type: its priority, then its name (weak types of one priority go alphabetically)."""
        return (self.rule(alias_type).priority, alias_type)

    def limits(self) -> dict[str, int]:
        return {t: r.limit for t, r in self.types.items() if r.limit is not None}

    def strong_types(self) -> list[str]:
        return sorted(t for t, r in self.types.items() if r.strong)

    def held_types(self) -> list[str]:
        """The types whose values a profile's facts must list: the strong ones (is it identified, does the
        evidence hold one of them) and the limited ones (would a join exceed a limit)."""
        return sorted(t for t, r in self.types.items() if r.strong or r.limit is not None)

    def table(self) -> list[AliasRule]:
        """The named types in priority order."""
        return sorted(self.types.values(), key=lambda r: (r.priority, r.type))


DEFAULTS = IdentityRules.of(DEFAULT_RULES)
V1 = IdentityRules.of(V1_RULES)

_FIELDS = ("strength", "limit", "priority")


def _type_rule(name: str, raw: Any, base: AliasRule | None, where: str) -> AliasRule:
    if not ALIAS_TYPE.match(name):
        raise InvalidRules(f"{where}: type name {name!r} must match [a-z0-9_]+")
    if not isinstance(raw, dict):
        raise InvalidRules(f"{where}: types.{name} must be a table of {', '.join(_FIELDS)}")
    for key in raw:
        if key not in _FIELDS:
            raise InvalidRules(f"{where}: types.{name}.{key} is not a rule field ({', '.join(_FIELDS)})")
    rule = base or AliasRule(name, "weak", None, DEFAULT_WEAK_PRIORITY)
    strength = raw.get("strength", rule.strength)
    if strength not in STRENGTHS:
        raise InvalidRules(f"{where}: types.{name}.strength must be 'strong' or 'weak', got {strength!r}")
    limit = raw.get("limit", rule.limit)
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidRules(
            f"{where}: types.{name}.limit must be a whole number >= 0 (0: none), got {limit!r}"
        )
    priority = raw.get("priority", rule.priority)
    if isinstance(priority, bool) or not isinstance(priority, int) or priority < 1:
        raise InvalidRules(f"{where}: types.{name}.priority must be a whole number >= 1, got {priority!r}")
    return AliasRule(name, strength, limit or None, priority)


def parse_rules(text: str, where: str = "identity rules") -> IdentityRules:
    """The defaults with the overrides of a TOML rules file; InvalidRules naming the bad key."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InvalidRules(f"{where}: not valid TOML: {exc}") from None
    for key in doc:
        if key != "types":
            raise InvalidRules(
                f"{where}: unknown top-level key {key!r} (the file holds [types.<type>] tables)"
            )
    types = doc.get("types", {})
    if not isinstance(types, dict):
        raise InvalidRules(f"{where}: types must be a table of [types.<type>] tables")
    merged = dict(DEFAULTS.types)
    for name, raw in types.items():
        merged[name] = _type_rule(name, raw, merged.get(name), where)
    return IdentityRules(merged)


def with_limits(rules: IdentityRules, limits: Mapping[str, int]) -> IdentityRules:
    """`rules` with the limits of IDGRAPH_MERGE_LIMITS (`type=N`, 0 for none) laid over them."""
    merged = dict(rules.types)
    for alias_type, limit in limits.items():
        base = rules.rule(alias_type)
        merged[alias_type] = AliasRule(alias_type, base.strength, limit or None, base.priority)
    return IdentityRules(merged)
