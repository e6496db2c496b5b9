"""The one place where Cypher text becomes a driver query.

Every statement idgraph runs is a file in the `cypher` package, loaded once by file name. Asking for a name
that has no file, or loading a file that is empty, fails at start-up rather than at the first request that
needs it. Values always travel as parameters; no Cypher is ever assembled from input.
"""

from __future__ import annotations

from importlib import resources
from typing import LiteralString, cast

from app.store import merge_statements
from app.store.many_rounds import many_rounds


class QueryNotFound(KeyError):
    pass


def _without_comment_lines(text: str) -> str:
    """The statement without its whole-line `//` comments: they are for readers of the file, while the
    driver sends the text with every run and Neo4j hashes all of it to find the cached plan."""
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("//")).strip()


class QueryCatalog:
    def __init__(self, package: str = "cypher") -> None:
        self._texts: dict[str, LiteralString] = {}
        for entry in resources.files(package).iterdir():
            if not entry.name.endswith(".cypher"):
                continue
            text = _without_comment_lines(entry.read_text(encoding="utf-8"))
            if not text:
                raise ValueError(f"cypher/{entry.name} is empty")
            # The text comes from a file shipped with the package, never from input.
            self._texts[entry.name.removesuffix(".cypher")] = cast(LiteralString, text)
        # Derived, not a file: the round once per entry of $rounds, so a step added to the round is in both.
        # (names() lists the files; a derived statement is asked for by its name like a file's.)
        self._derived: dict[str, LiteralString] = {}
        if "ingest_round" in self._texts:
            derived = many_rounds(self._texts["ingest_round"], shared=frozenset({"limited_types"}))
            self._derived["ingest_rounds"] = cast(LiteralString, derived)
        # Derived too: a merge in one statement, and in the statement of the round that commits it
        # (app/store/merge_statements.py).
        if "traits_fold_merge" in self._texts and "merge_components" in self._texts:
            fold, merge = self._texts["traits_fold_merge"], self._texts["merge_components"]
            folded = merge_statements.merge_components_folded(fold, merge)
            self._derived["merge_components_folded"] = cast(LiteralString, folded)
            if "ingest_round" in self._texts:
                merging = merge_statements.ingest_round_merging(fold, merge, self._texts["ingest_round"])
                self._derived["ingest_round_merging"] = cast(LiteralString, merging)

    def names(self) -> list[str]:
        return sorted(self._texts)

    def require(self, *names: str) -> None:
        missing = [n for n in names if n not in self._texts and n not in self._derived]
        if missing:
            raise QueryNotFound(f"no cypher file for {missing}")

    def __getitem__(self, name: str) -> LiteralString:
        """The statement of `cypher/<name>.cypher`, typed LiteralString as the driver asks of query text."""
        try:
            return self._texts[name] if name in self._texts else self._derived[name]
        except KeyError:
            raise QueryNotFound(f"no cypher/{name}.cypher") from None

    def schema_names(self) -> list[str]:
        """Files named `schema_*.cypher`, in name order; one statement each, all idempotent."""
        return [n for n in sorted(self._texts) if n.startswith("schema_")]


_catalog: QueryCatalog | None = None


def catalog() -> QueryCatalog:
    global _catalog
    if _catalog is None:
        _catalog = QueryCatalog()
    return _catalog
