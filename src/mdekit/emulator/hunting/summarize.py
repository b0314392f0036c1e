"""``summarize``: aggregation functions, ``by`` keys (with ``bin()``), KQL's default column names.

``arg_max``/``arg_min`` use SQLite's documented "bare column" rule: with exactly one ``max()`` or
``min()`` aggregate, the other selected columns come from the row holding that extreme.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError
from mdekit.emulator.hunting.scalars import AGGREGATES, E, ScalarCompiler, quote_ident

if TYPE_CHECKING:
    from mdekit.emulator.hunting.compiler import Compiler, Rel

__all__ = ["compile_summarize"]


def _default_name(call: ast.Call) -> str:
    prefix = AGGREGATES[call.name]
    if call.name in ("count", "countif"):
        return prefix
    first = call.args[0] if call.args else None
    return f"{prefix}_{first.name}" if isinstance(first, ast.Col) else f"{prefix}_"


def _key_name(expr: Any) -> str | None:
    if isinstance(expr, ast.Col):
        return expr.name
    if (
        isinstance(expr, ast.Call)
        and expr.name in ("bin", "floor")
        and expr.args
        and isinstance(expr.args[0], ast.Col)
    ):
        return expr.args[0].name
    return None


class _Aggregates:
    """Compiles aggregate calls found in ``summarize`` items; remembers arg_max's extra columns."""

    def __init__(self, compiler: Compiler, rel: Rel, by_names: list[str]) -> None:
        self.rel = rel
        self.by_names = by_names
        self.inner = compiler.scalars(rel)
        self.extremes = 0
        self.arg_columns: list[tuple[str, str, str]] = []  # (sql, name, type) of arg_max's bare columns

    def __call__(self, call: ast.Call) -> E:
        name, args = call.name, call.args
        if name in ("count",):
            return E(f"count({self.inner.compile(args[0]).sql})" if args else "count(*)", "long")
        if name in ("arg_max", "arg_min"):
            return self._arg_extreme(call)
        if not args:
            raise KqlSemanticError(f"Aggregation '{name}()' expects an argument")
        value = self.inner.compile(args[0])
        cond = self.inner.compile(args[-1]).sql if name.endswith("if") else None
        return self._simple(name, value, cond)

    def _simple(self, name: str, value: E, cond: str | None) -> E:
        v = value.sql
        if name == "countif":
            return E(f"coalesce(sum(CASE WHEN {v} THEN 1 ELSE 0 END), 0)", "long")
        if name in ("dcount", "dcountif"):
            return E(f"count(DISTINCT {f'CASE WHEN {cond} THEN {v} END' if cond else v})", "long")
        if name in ("sum", "sumif"):
            ktype = (
                "real"
                if value.type == "real"
                else "long"
                if value.type in ("int", "long", "bool")
                else value.type
            )
            return E(f"sum({f'CASE WHEN {cond} THEN {v} END' if cond else v})", ktype)
        if name in ("avg", "avgif"):
            return E(f"avg({f'CASE WHEN {cond} THEN {v} END' if cond else v})", "real")
        if name in ("min", "max"):
            self.extremes += 1
            return E(f"{name}({v})", value.type)
        if name in ("make_set", "make_list"):
            item = self.inner.tostring(value).sql if value.type in ("datetime", "timespan") else v
            if value.type == "dynamic":
                item = f"json({v})"
            distinct = "DISTINCT " if name == "make_set" else ""
            return E(f"json_group_array({distinct}{item}) FILTER (WHERE {v} IS NOT NULL)", "dynamic")
        return E(v, value.type)  # any / take_any: a bare column, SQLite takes it from some row

    def _arg_extreme(self, call: ast.Call) -> E:
        if len(call.args) < 2:
            raise KqlSemanticError(f"Aggregation '{call.name}()' expects an expression and columns to return")
        self.extremes += 1
        target = self.inner.compile(call.args[0])
        target_name = call.args[0].name if isinstance(call.args[0], ast.Col) else None
        skip = {*self.by_names, *([target_name] if target_name else [])}
        for arg in call.args[1:]:
            if isinstance(arg, ast.Star):
                self.arg_columns += [
                    (quote_ident(c.name), c.name, c.type) for c in self.rel.cols if c.name not in skip
                ]
                skip.update(c.name for c in self.rel.cols)
            else:
                e = self.inner.compile(arg)
                name = arg.name if isinstance(arg, ast.Col) else f"{call.name}_{len(self.arg_columns) + 1}"
                if name not in skip:
                    self.arg_columns.append((e.sql, name, e.type))
                    skip.add(name)
        return E(f"{'max' if call.name == 'arg_max' else 'min'}({target.sql})", target.type)


def compile_summarize(compiler: Compiler, op: ast.Summarize, rel: Rel) -> tuple[str, list[tuple[str, str]]]:
    """SQL and ``(name, type)`` columns for ``summarize``: the ``by`` keys first, then the aggregates."""
    from mdekit.emulator.hunting.compiler import unique_name

    keys_sc = compiler.scalars(rel)
    taken: set[str] = set()
    select: list[str] = []
    cols: list[tuple[str, str]] = []
    counter = 0
    for item in op.by:
        expr = keys_sc.compile(item.expr)
        name = item.name or _key_name(item.expr)
        if name is None:
            counter += 1
            name = f"Column{counter}"
        name = unique_name(name, taken)
        taken.add(name)
        select.append(f"{expr.sql} AS {quote_ident(name)}")
        cols.append((name, expr.type))
    aggs = _Aggregates(compiler, rel, [n for n, _ in cols])
    agg_sc = ScalarCompiler(rel.types(), compiler.now_us, compiler._resolve_let, compiler._subquery, aggs)
    for item in op.aggs:
        _add_aggregate(item, agg_sc, aggs, taken, select, cols)
    if aggs.extremes > 1 and aggs.arg_columns:
        raise KqlSemanticError(
            "arg_max()/arg_min() cannot be combined with other min/max aggregates in one summarize"
        )
    group = f" GROUP BY {', '.join(str(i + 1) for i in range(len(op.by)))}" if op.by else ""
    if not select:
        raise KqlSemanticError("'summarize' operator needs at least one aggregate or 'by' key")
    return f"SELECT {', '.join(select)} FROM ({rel.sql}) AS _t{group}", cols


def _add_aggregate(
    item: ast.Assign,
    sc: ScalarCompiler,
    aggs: _Aggregates,
    taken: set[str],
    select: list[str],
    cols: list[tuple[str, str]],
) -> None:
    from mdekit.emulator.hunting.compiler import unique_name

    before = len(aggs.arg_columns)
    expr = sc.compile(item.expr)
    call = item.expr if isinstance(item.expr, ast.Call) and item.expr.name in AGGREGATES else None
    if call is not None and call.name in ("arg_max", "arg_min"):
        first = call.args[0]
        name = item.name or (first.name if isinstance(first, ast.Col) else f"{call.name[4:]}_")
    elif call is not None:
        name = item.name or _default_name(call)
    else:
        name = item.name or f"Column{len(cols) + 1}"
    name = unique_name(name, taken)
    taken.add(name)
    select.append(f"{expr.sql} AS {quote_ident(name)}")
    cols.append((name, expr.type))
    for sql, col, ktype in aggs.arg_columns[before:]:
        col = unique_name(col, taken)
        taken.add(col)
        select.append(f"{sql} AS {quote_ident(col)}")
        cols.append((col, ktype))
