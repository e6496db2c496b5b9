"""The many-rounds form of a round statement: the same statement run once per entry of `$rounds`, in order.

`cypher/ingest_round.cypher` is one round of one request. The messages of a Segment batch, or the lines of a
bulk import, that touch disjoint identities need the same round each, and one statement over all of them is
one plan execution and one round trip instead of one per message (app/services/round_groups.py decides
which may share one). The many-rounds text is derived from the file when the catalog loads, never written
by hand, so a step added to the round is in both:

    UNWIND $rounds AS round_params
    CALL (round_params) { <the round, with $name read as round_params.name> }
    RETURN round_params.round_index AS round_index, <the round's columns>

Each execution of a CALL subquery sees the writes of the ones before it, so the rounds run one after the
other exactly as separate statements in one transaction would. Parameters in `shared` stay parameters (the
same for every round). The round's variable is imported into every subquery that reads it and carried by
every WITH after which something reads it; an aggregating WITH cannot carry it without changing what it
answers for no rows, so a round statement whose aggregating WITH is followed by a per-round parameter is
refused here, at load time, rather than run wrong.
"""

from __future__ import annotations

import re

VAR = "round_params"
INDEX = "round_index"

_PARAM = re.compile(r"\$([A-Za-z_][A-Za-z0-9_]*)")
_CALL = re.compile(r"\bCALL\s*\(([^)]*)\)\s*\{")
_WITH = re.compile(r"\bWITH\b(\s+DISTINCT\b)?\s*")
_CLAUSE = re.compile(
    r"\b(OPTIONAL\s+MATCH|MATCH|CALL|UNWIND|MERGE|CREATE|SET|REMOVE|RETURN|WITH|FOREACH|DELETE|DETACH|ORDER|"
    r"WHERE|LIMIT|SKIP)\b"
)
_AGGREGATE = re.compile(
    r"\b(collect|count|sum|avg|min|max|percentileCont|percentileDisc|stDev|stDevP)\s*\(", re.I
)


class NotDerivable(ValueError):
    pass


def _closing(text: str, open_at: int) -> int:
    """The index of the `}` that closes the `{` at `open_at` (map literals inside are balanced)."""
    depth = 0
    for i in range(open_at, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth == 0:
                return i
    raise NotDerivable("unbalanced braces")


def _scope_end(text: str, start: int) -> int:
    """Where the subquery (or the statement) that holds `start` ends."""
    depth = 0
    for i in range(start, len(text)):
        if text[i] == "{":
            depth += 1
        elif text[i] == "}":
            depth -= 1
            if depth < 0:
                return i
    return len(text)


def _top_level_split(text: str) -> list[str]:
    items, depth, start = [], 0, 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
        elif ch == "," and depth == 0:
            items.append(text[start:i])
            start = i + 1
    items.append(text[start:])
    return [item.strip() for item in items if item.strip()]


def _final_return(text: str) -> int:
    """The position of the statement's last top-level RETURN."""
    depth, last = 0, -1
    for m in re.finditer(r"[{}]|\bRETURN\b", text):
        token = m.group(0)
        if token == "{":
            depth += 1
        elif token == "}":
            depth -= 1
        elif depth == 0:
            last = m.start()
    if last < 0:
        raise NotDerivable("the statement has no top-level RETURN")
    return last


def _column(item: str) -> str:
    parts = re.split(r"\s+AS\s+", item)
    name = parts[-1].strip()
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise NotDerivable(f"a returned column needs a name: {item!r}")
    return name


def many_rounds(text: str, shared: frozenset[str] = frozenset()) -> str:
    """The statement that runs `text` (comment lines already stripped) once per entry of `$rounds`."""
    if VAR in text or "$rounds" in text:
        raise NotDerivable(f"the statement already uses {VAR} or $rounds")
    ret = _final_return(text)
    columns = [_column(item) for item in _top_level_split(text[ret + len("RETURN") :])]
    body = _PARAM.sub(lambda m: m.group(0) if m.group(1) in shared else f"{VAR}.{m.group(1)}", text)
    # Subqueries, innermost (rightmost) first: import the round where the body reads it.
    for m in reversed(list(_CALL.finditer(body))):
        open_at = m.end() - 1
        inner = body[open_at : _closing(body, open_at)]
        if re.search(rf"\b{VAR}\b", inner):
            imports = m.group(1).strip()
            body = f"{body[: m.start()]}CALL ({VAR}{', ' + imports if imports else ''}) {{{body[m.end() :]}"
    # WITH clauses, last first: carry the round where something after them, in their scope, reads it.
    for m in reversed(list(_WITH.finditer(body))):
        before = body[max(0, m.start() - 7) : m.start()]
        if re.search(r"\b(STARTS|ENDS)\s+$", before) or body[m.end() :].startswith("*"):
            continue
        rest = body[m.end() : _scope_end(body, m.end())]
        if not re.search(rf"\b{VAR}\b", rest):
            continue
        clause_end = _CLAUSE.search(body, m.end())
        clause = body[m.end() : clause_end.start() if clause_end else len(body)]
        if _AGGREGATE.search(clause):
            raise NotDerivable(
                f"an aggregating WITH is followed by a per-round parameter: WITH {clause.strip()}"
            )
        body = f"{body[: m.end()]}{VAR}, {body[m.end() :]}"
    return (
        f"UNWIND $rounds AS {VAR}\nCALL ({VAR}) {{\n{body}\n}}\n"
        f"RETURN {VAR}.{INDEX} AS {INDEX}, {', '.join(columns)}"
    )
