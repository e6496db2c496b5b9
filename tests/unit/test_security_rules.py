"""Security (issue 9.6), read from the code: no Cypher built from input, constant-time token checks."""

from __future__ import annotations

import ast
import re

from tests.helpers import REPO

APP = REPO / "app"
DRIVER_CALLS = {"run", "execute_query"}


def _query_arg(call: ast.Call) -> ast.expr | None:
    if call.args:
        return call.args[0]
    return next((k.value for k in call.keywords if k.arg in ("query", "query_")), None)


def test_every_driver_call_runs_catalog_cypher() -> None:
    """Each tx.run / session.run / execute_query in app/ takes its statement from the query catalog (files
    in cypher/) — a subscript like self._q["name"] or a name bound to one — never an f-string, a
    concatenation, a %-format or .format() that could splice input into Cypher. And they all sit in the
    repository, the one gateway every statement runs through."""
    offenders: list[str] = []
    calls = 0
    sites: set[str] = set()
    for path in sorted(APP.rglob("*.py")):
        tree = ast.parse(path.read_text(), filename=str(path))
        for node in ast.walk(tree):
            if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
                continue
            if node.func.attr not in DRIVER_CALLS:
                continue
            receiver = ast.unparse(node.func.value)
            if node.func.attr == "run" and not re.search(r"(tx|session|driver)$", receiver, re.IGNORECASE):
                continue  # asyncio.run, uvicorn.run, importer.run: not the driver
            query = _query_arg(node)
            if query is None:
                continue
            calls += 1
            sites.add(str(path.relative_to(APP.parent)))
            where = f"{path.relative_to(APP.parent)}:{node.lineno}"
            built = (
                isinstance(query, ast.JoinedStr | ast.BinOp)
                or (
                    isinstance(query, ast.Call)
                    and isinstance(query.func, ast.Attribute)
                    and query.func.attr in ("format", "join", "replace")
                )
                or (isinstance(query, ast.Constant) and isinstance(query.value, str))
            )
            if built or not isinstance(query, ast.Subscript | ast.Name | ast.Attribute):
                offenders.append(f"{where}: {ast.unparse(query)}")
    assert calls >= 4  # GraphRepository: rows and single (tx.run), read and write (execute_query)
    assert sites == {"app/store/repository.py"}, sites
    assert not offenders, offenders
    # And no Cypher text sits in Python source outside the catalog loader.
    cypher_words = re.compile(r"\b(MATCH|MERGE|CREATE|DETACH DELETE)\s*\(", re.MULTILINE)
    inline = [
        str(p.relative_to(APP.parent))
        for p in APP.rglob("*.py")
        if cypher_words.search(p.read_text()) and p != APP / "store" / "catalog.py"
    ]
    assert not inline, inline


def test_token_comparisons_are_constant_time() -> None:
    for name in ("http/auth.py", "http/metrics.py"):
        text = (APP / name).read_text()
        assert "hmac.compare_digest" in text
        assert not re.search(r"token\s*[!=]=\s*(expected|.*admin_token)", text)
