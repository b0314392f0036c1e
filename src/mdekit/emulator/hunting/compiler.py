"""Compile a parsed KQL query (:mod:`.ast`) to one SQLite ``SELECT``.

Every tabular operator wraps the previous stage as a sub-select; SQLite's query flattener folds
the nesting back, so the generated SQL runs like hand-written SQL (see benchmarks/bench_kql.py).
Each stage also tracks its columns and their KQL types: they become the response's ``Schema``.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError, KqlUnsupportedError
from mdekit.emulator.hunting.scalars import E, ScalarCompiler, quote_ident
from mdekit.emulator.hunting.summarize import compile_summarize

__all__ = ["Column", "Compiler", "Rel", "compile_query"]


@dataclass(frozen=True)
class Column:
    """An output column: name and KQL type."""

    name: str
    type: str


@dataclass(frozen=True)
class Rel:
    """A compiled tabular expression: a SELECT and its columns, in order."""

    sql: str
    cols: list[Column]

    def types(self) -> dict[str, str]:
        """Column name -> KQL type."""
        return {c.name: c.type for c in self.cols}

    def names(self) -> list[str]:
        """Column names in order."""
        return [c.name for c in self.cols]


#: Resolves a table name to its SELECT (with the 30-day window applied) or ``None``.
TableResolver = Callable[[str], Rel | None]


def _select_list(cols: list[Column], alias: str = "") -> str:
    prefix = f"{alias}." if alias else ""
    return ", ".join(f"{prefix}{quote_ident(c.name)}" for c in cols)


def unique_name(name: str, taken: set[str]) -> str:
    """*name*, or *name* with the smallest numeric suffix not in *taken* (KQL's ``DeviceId1``)."""
    if name not in taken:
        return name
    n = 1
    while f"{name}{n}" in taken:
        n += 1
    return f"{name}{n}"


@dataclass
class Compiler:
    """Compiles one query; holds the ``let`` bindings and the clock reading used for ``ago()``."""

    tables: TableResolver
    now_us: int
    lets: dict[str, Any] = field(default_factory=dict)

    def compile_query(self, query: ast.Query) -> Rel:
        """The whole query: bind each ``let`` in order, then compile the body."""
        for let in query.lets:
            self.lets[let.name] = self._let_value(let.value)
        return self.tabular(query.body)

    def _let_value(self, value: ast.Pipeline) -> Any:
        if value.ops or self._is_tabular(value.source):
            return self.tabular(value)
        return value.source  # scalar: the AST, compiled where it is used

    def _is_tabular(self, node: Any) -> bool:
        if isinstance(node, ast.Union | ast.Pipeline):
            return True
        if isinstance(node, ast.Col):
            return isinstance(self.lets.get(node.name), Rel) or self.tables(node.name) is not None
        return False

    # --- scalar plumbing ----------------------------------------------------------------------
    def scalars(self, rel: Rel, aggregate: Callable[[ast.Call], E] | None = None) -> ScalarCompiler:
        """A scalar compiler over *rel*'s columns."""
        return ScalarCompiler(rel.types(), self.now_us, self._resolve_let, self._subquery, aggregate)

    def _resolve_let(self, name: str) -> Any:
        value = self.lets.get(name)
        if isinstance(value, Rel):
            raise KqlSemanticError(f"'{name}' is a tabular expression and cannot be used as a scalar")
        return value

    def _subquery(self, node: Any) -> E | None:
        if not self._is_tabular(node):
            return None
        rel = self.tabular(node)
        if not rel.cols:
            raise KqlSemanticError("A tabular expression used with 'in' has no columns")
        first = rel.cols[0]
        return E(f"{quote_ident(first.name)} FROM ({rel.sql}) AS _s", first.type)

    # --- tabular expressions --------------------------------------------------------------------
    def tabular(self, node: Any) -> Rel:
        """Compile a tabular expression (table name, ``let`` name, union or pipeline)."""
        if isinstance(node, ast.Pipeline):
            rel = self.tabular(node.source)
            for op in node.ops:
                rel = self.apply(op, rel)
            return rel
        if isinstance(node, ast.Union):
            return self._union(node, [])
        if isinstance(node, ast.Col):
            bound = self.lets.get(node.name)
            if isinstance(bound, Rel):
                return bound
            table = self.tables(node.name)
            if table is not None:
                return table
            raise KqlSemanticError(f"Failed to resolve table or column expression named '{node.name}'")
        raise KqlSemanticError("A query must start with a table name, a 'let' name or 'union'")

    def apply(self, op: Any, rel: Rel) -> Rel:
        """Apply one tabular operator to *rel*."""
        handler = getattr(self, "_op_" + type(op).__name__.lower(), None)
        if handler is None:  # pragma: no cover - the grammar only produces known operators
            raise KqlUnsupportedError("operator", type(op).__name__)
        result: Rel = handler(op, rel)
        return result

    def _op_where(self, op: ast.Where, rel: Rel) -> Rel:
        pred = self.scalars(rel).compile(op.pred)
        return Rel(f"SELECT * FROM ({rel.sql}) AS _t WHERE {pred.sql}", rel.cols)

    def _named(self, items: list[ast.Assign], rel: Rel, taken: set[str]) -> list[tuple[str, E]]:
        sc = self.scalars(rel)
        out: list[tuple[str, E]] = []
        counter = 0
        for item in items:
            expr = sc.compile(item.expr)
            name = item.name or (item.expr.name if isinstance(item.expr, ast.Col) else None)
            if name is None:
                counter += 1
                name = unique_name(f"Column{counter}", taken)
            taken.add(name)
            out.append((name, expr))
        return out

    def _op_project(self, op: ast.Project, rel: Rel) -> Rel:
        named = self._named(op.items, rel, set())
        if len({n for n, _ in named}) != len(named):
            raise KqlSemanticError("'project' operator: a column name is used more than once")
        sql = ", ".join(f"{e.sql} AS {quote_ident(n)}" for n, e in named)
        return Rel(f"SELECT {sql} FROM ({rel.sql}) AS _t", [Column(n, e.type) for n, e in named])

    def _op_extend(self, op: ast.Extend, rel: Rel) -> Rel:
        # An item may use a column defined earlier in the same extend: apply the items one by one.
        for item in op.items:
            rel = self._extend_one(item, rel)
        return rel

    def _extend_one(self, item: ast.Assign, rel: Rel) -> Rel:
        ((name, expr),) = self._named([item], rel, set(rel.names()))
        if item.name is None and isinstance(item.expr, ast.Col):
            return rel
        cols = [c for c in rel.cols if c.name != name] if name in rel.names() else rel.cols
        if name in rel.names():
            select = ", ".join(
                f"{expr.sql} AS {quote_ident(name)}" if c.name == name else quote_ident(c.name)
                for c in rel.cols
            )
            new_cols = [Column(name, expr.type) if c.name == name else c for c in rel.cols]
            return Rel(f"SELECT {select} FROM ({rel.sql}) AS _t", new_cols)
        select = (
            f"{_select_list(cols)}, {expr.sql} AS {quote_ident(name)}"
            if cols
            else f"{expr.sql} AS {quote_ident(name)}"
        )
        return Rel(f"SELECT {select} FROM ({rel.sql}) AS _t", [*cols, Column(name, expr.type)])

    def _op_projectaway(self, op: ast.ProjectAway, rel: Rel) -> Rel:
        drop: set[str] = set()
        for pattern in op.patterns:
            hits = [n for n in rel.names() if fnmatch.fnmatchcase(n, pattern)]
            if not hits and "*" not in pattern:
                raise KqlSemanticError(f"'project-away' operator: Failed to resolve column named '{pattern}'")
            drop.update(hits)
        cols = [c for c in rel.cols if c.name not in drop]
        if not cols:
            raise KqlSemanticError("'project-away' operator: no columns would remain")
        return Rel(f"SELECT {_select_list(cols)} FROM ({rel.sql}) AS _t", cols)

    def _op_projectrename(self, op: ast.ProjectRename, rel: Rel) -> Rel:
        mapping = {old: new for new, old in op.pairs}
        for old in mapping:
            if old not in rel.names():
                raise KqlSemanticError(f"'project-rename' operator: Failed to resolve column named '{old}'")
        cols = [Column(mapping.get(c.name, c.name), c.type) for c in rel.cols]
        select = ", ".join(
            f"{quote_ident(c.name)} AS {quote_ident(mapping.get(c.name, c.name))}" for c in rel.cols
        )
        return Rel(f"SELECT {select} FROM ({rel.sql}) AS _t", cols)

    def _op_summarize(self, op: ast.Summarize, rel: Rel) -> Rel:
        sql, cols = compile_summarize(self, op, rel)
        return Rel(sql, [Column(n, t) for n, t in cols])

    def _order_sql(self, keys: list[ast.SortKey], rel: Rel) -> str:
        sc = self.scalars(rel)
        parts = []
        for key in keys:
            expr = sc.compile(key.expr)
            nulls = "" if key.nulls_first is None else (" NULLS FIRST" if key.nulls_first else " NULLS LAST")
            parts.append(f"{expr.sql} {'DESC' if key.desc else 'ASC'}{nulls}")
        return ", ".join(parts)

    def _op_sort(self, op: ast.Sort, rel: Rel) -> Rel:
        return Rel(f"SELECT * FROM ({rel.sql}) AS _t ORDER BY {self._order_sql(op.keys, rel)}", rel.cols)

    def _count(self, node: Any, rel: Rel, what: str) -> int:
        value = self.scalars(rel).compile(node)
        if not isinstance(value.const, int) or isinstance(value.const, bool) or value.const < 0:
            raise KqlSemanticError(f"'{what}' operator expects a non-negative integer constant")
        return int(value.const)

    def _op_take(self, op: ast.Take, rel: Rel) -> Rel:
        return Rel(f"SELECT * FROM ({rel.sql}) AS _t LIMIT {self._count(op.count, rel, 'take')}", rel.cols)

    def _op_top(self, op: ast.Top, rel: Rel) -> Rel:
        n = self._count(op.count, rel, "top")
        return Rel(
            f"SELECT * FROM ({rel.sql}) AS _t ORDER BY {self._order_sql([op.key], rel)} LIMIT {n}", rel.cols
        )

    def _op_distinct(self, op: ast.Distinct, rel: Rel) -> Rel:
        if op.columns is None:
            cols = rel.cols
        else:
            types = rel.types()
            for name in op.columns:
                if name not in types:
                    raise KqlSemanticError(f"'distinct' operator: Failed to resolve column named '{name}'")
            cols = [Column(n, types[n]) for n in op.columns]
        return Rel(f"SELECT DISTINCT {_select_list(cols)} FROM ({rel.sql}) AS _t", cols)

    def _op_count(self, _op: ast.Count, rel: Rel) -> Rel:
        return Rel(f'SELECT count(*) AS "Count" FROM ({rel.sql}) AS _t', [Column("Count", "long")])

    def _op_join(self, op: ast.Join, rel: Rel) -> Rel:
        from mdekit.emulator.hunting.joins import compile_join

        return compile_join(self, op, rel)

    def _op_union(self, op: ast.Union, rel: Rel) -> Rel:
        return self._union(op, [rel])

    def _union(self, op: ast.Union, first: list[Rel]) -> Rel:
        from mdekit.emulator.hunting.joins import compile_union

        return compile_union(self, op, first)


def compile_query(query: ast.Query, tables: TableResolver, now_us: int) -> Rel:
    """Compile *query* against *tables* with ``now()`` = *now_us* (microseconds since the epoch)."""
    return Compiler(tables, now_us).compile_query(query)
