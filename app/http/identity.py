"""`GET /identity/rules` (admin token): the identifier rules in effect (API.md, Identity rules v2)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get

from app.http.auth import admin_guard
from graph_model.identity_rules import DEFAULT_WEAK_PRIORITY, IdentityRules


class RuleView(msgspec.Struct):
    type: str
    strength: str
    limit: int | None
    priority: int


class RulesView(msgspec.Struct):
    # The named types, in priority order.
    types: list[RuleView]
    # What every other type gets (weak, no limit, after the named types of a higher priority).
    other_types: RuleView


def rules_view(rules: IdentityRules) -> RulesView:
    return RulesView(
        [RuleView(r.type, r.strength, r.limit, r.priority) for r in rules.table()],
        RuleView("*", "weak", None, DEFAULT_WEAK_PRIORITY),
    )


@get(
    "/identity/rules",
    guards=[admin_guard],
    tags=["identity"],
    summary="The identifier rules in effect: strength, limit per profile and priority of each alias type",
)
async def identity_rules(request: Request[Any, Any, Any]) -> RulesView:
    return rules_view(request.app.state.settings.identity_rules)
