"""``summarize``: aggregation functions, ``by`` keys (with ``bin()``), KQL's default column names.

``arg_max``/``arg_min`` pick one whole row per group: DuckDB's ``arg_max(struct, key)`` returns the
struct of that row, unpacked by an outer SELECT (``percentiles`` return a list, unpacked the same way).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError, KqlUnsupportedError
from mdekit.emulator.hunting.scalars import AGGREGATES, ScalarCompiler, Tabular
from mdekit.emulator.hunting.sql import E, Namer, Rel, quote_ident, quote_str, unique_name

__all__ = ["Aggregates", "compile_summarize", "default_name"]

_SIMPLE = {
    "sum": "sum",
    "avg": "avg",
    "min": "min",
    "max": "max",
    "stdev": "stddev_samp",
    "variance": "var_samp",
    "binary_all_or": "bit_or",
    "binary_all_and": "bit_and",
}


@dataclass
class _Expansion:
    """An aggregate that becomes several output columns: (output name, KQL type, part selector).

    The selector is a struct field name (``f0``) or a 1-based list position (``"1"``).
    """

    columns: list[tuple[str, str, str]] = field(default_factory=list)

    @staticmethod
    def part(alias: str, selector: str) -> str:
        """SQL reading one part of the aggregate's value."""
        if selector.isdigit():
            return f"list_extract({quote_ident(alias)}, {selector})"
        return f"struct_extract({quote_ident(alias)}, {quote_str(selector)})"


def default_name(call: ast.Call) -> str:
    """KQL's column name for an unnamed aggregate: ``count_``, ``dcount_DeviceId``, ``set_FileName``..."""
    prefix = AGGREGATES[call.name]
    if call.name == "count" and call.args and isinstance(call.args[0], ast.Col):
        return f"count_{call.args[0].name}"
    if call.name in ("count", "countif"):
        return prefix
    first = call.args[0] if call.args else None
    return f"{prefix}_{first.name}" if isinstance(first, ast.Col) else f"{prefix}_"


def _key_name(expr: Any) -> str | None:
    if isinstance(expr, ast.Col):
        return expr.name
    if isinstance(expr, ast.Call) and expr.name in ("bin", "floor", "bin_at") and expr.args:
        first = expr.args[0]
        return first.name if isinstance(first, ast.Col) else None
    if isinstance(expr, ast.Member):
        return expr.key if isinstance(expr.key, str) else None
    return None


class Aggregates:
    """Compiles aggregate calls found in ``summarize`` items; remembers multi-column ones."""

    def __init__(self, t: Tabular, rel: Rel, by_names: list[str]) -> None:
        self.rel = rel
        self.by_names = by_names
        self.inner: ScalarCompiler = t.scalars(rel)
        self.expansions: list[_Expansion] = []
        self.pending: _Expansion | None = None

    def __call__(self, call: ast.Call) -> E:
        name = {"makeset": "make_set", "makelist": "make_list", "argmax": "arg_max", "argmin": "arg_min"}.get(
            call.name, call.name
        )
        if name in ("arg_max", "arg_min"):
            return self._arg_extreme(call, name)
        if name == "count":
            if not call.args or isinstance(call.args[0], ast.Star):
                return E("count(*)", "long")
            return E(f"count({self.inner.compile(call.args[0]).sql})", "long")
        if name == "countif":
            cond = self._cond(call, 0)
            return E(f"count(*) FILTER (WHERE {cond})", "long")
        if name in ("percentile", "percentiles"):
            return self._percentiles(call)
        if not call.args:
            raise KqlSemanticError(f"Aggregation '{name}()' expects an argument")
        value = self.inner.compile(call.args[0])
        return self._value_agg(name, value, call)

    def _cond(self, call: ast.Call, index: int) -> str:
        if len(call.args) <= index:
            raise KqlSemanticError(f"Aggregation '{call.name}()' expects a predicate")
        return self.inner.boolean(self.inner.compile(call.args[index])).sql

    def _value_agg(self, name: str, value: E, call: ast.Call) -> E:
        conditional = name.endswith("if") and name not in ("countif",)
        base = name[:-2] if conditional else name
        base = {
            "take_any": "any",
            "anyif": "any",
            "take_anyif": "any",
            "make_set_if": "make_set",
            "make_list_if": "make_list",
            "make_bag_if": "make_bag",
            "count_distinct": "dcount",
            "count_distinctif": "dcount",
            "make_list_with_nulls": "make_list",
        }.get(name, base)
        flt = (
            f" FILTER (WHERE {self._cond(call, 1)})"
            if conditional or name in ("make_set_if", "make_list_if", "make_bag_if", "take_anyif", "anyif")
            else ""
        )
        v = value.sql
        if base == "dcount":
            return E(f"count(DISTINCT {v}){flt}", "long")
        if base in ("sum", "stdev", "variance"):  # KQL's default over no values is 0, not null
            inner = self._simple(base, value, flt)
            return E(f"coalesce({inner.sql}, 0)", inner.type)
        if base in ("make_set", "make_list"):
            return self._make_list(base, value, call, flt)
        if base == "make_bag":
            return E(f"kql_merge_bags(coalesce(list(CAST({v} AS JSON)){flt}, []))", "dynamic")
        if base == "any":
            return E(f"any_value({v}){flt}", value.type)
        if base in _SIMPLE:
            return self._simple(base, value, flt)
        raise KqlUnsupportedError("aggregation function", name)

    def _simple(self, base: str, value: E, flt: str) -> E:
        """sum/avg/min/max/stdev/variance/binary_all_*: one SQL aggregate."""
        if value.type in ("dynamic", "string") and base not in ("min", "max"):
            value = self.inner.number(value)
        v, ktype = value.sql, value.type
        if base == "sum":
            ktype = (
                "real"
                if value.type == "real"
                else "long"
                if value.type in ("int", "long", "bool")
                else value.type
            )
            if ktype == "long":
                return E(f"CAST(sum({v}){flt} AS BIGINT)", ktype)
        elif base in ("avg", "stdev", "variance"):
            ktype = "real"
        elif base.startswith("binary"):
            ktype = "long"
        return E(f"{_SIMPLE[base]}({v}){flt}", ktype)

    def _make_list(self, base: str, value: E, call: ast.Call, flt: str) -> E:
        item = self.inner.json_value(value)
        if value.type == "string":
            item = value.sql
        agg = f"list({item}){flt}" if flt else f"list({item}) FILTER (WHERE {value.sql} IS NOT NULL)"
        if base == "make_set":
            agg = f"list_distinct({agg})"
        limit_arg = 1 if base == "make_set" and not flt else 2 if flt else 1
        if len(call.args) > limit_arg:
            limit = self.inner.compile(call.args[limit_arg]).sql
            agg = f"list_slice({agg}, 1, {limit})"
        return E(f"coalesce(to_json({agg}), '[]')", "dynamic", json=None)

    def _percentiles(self, call: ast.Call) -> E:
        if len(call.args) < 2:
            raise KqlSemanticError(f"Aggregation '{call.name}()' expects a value and percentiles")
        value = self.inner.number(self.inner.compile(call.args[0]))
        points = [self.inner.compile(a) for a in call.args[1:]]
        if not all(isinstance(p.const, int | float) for p in points):
            raise KqlSemanticError("Percentiles must be numeric constants")
        fractions = ", ".join(repr(float(p.const) / 100) for p in points)
        if call.name == "percentile":
            return E(f"quantile_disc({value.sql}, {fractions})", value.type)
        exp = _Expansion()
        base = call.args[0].name if isinstance(call.args[0], ast.Col) else ""
        for i, p in enumerate(points):
            label = str(p.const).replace(".", "_")
            exp.columns.append((f"percentile_{base}_{label}", value.type, str(i + 1)))
        self.pending = exp
        return E(f"quantile_disc({value.sql}, [{fractions}])", "dynamic")

    def _arg_extreme(self, call: ast.Call, name: str) -> E:
        if len(call.args) < 1:
            raise KqlSemanticError(f"Aggregation '{call.name}()' expects an expression and columns to return")
        target = self.inner.compile(call.args[0])
        target_name = call.args[0].name if isinstance(call.args[0], ast.Col) else f"{name[4:]}_"
        exp = _Expansion()
        fields: list[str] = [f"f0 := {target.sql}"]
        exp.columns.append((target_name, target.type, "f0"))
        skip = {*self.by_names, target_name}
        for arg in call.args[1:]:
            targets = self.rel.cols if isinstance(arg, ast.Star) else None
            if targets is not None:
                for col in targets:
                    if col.name not in skip:
                        skip.add(col.name)
                        fields.append(f"f{len(fields)} := {col.ident}")
                        exp.columns.append((col.name, col.type, f"f{len(fields) - 1}"))
                continue
            named = arg.name if isinstance(arg, ast.NamedArg) else None
            expr = arg.expr if isinstance(arg, ast.NamedArg) else arg
            e = self.inner.compile(expr)
            out = named or (expr.name if isinstance(expr, ast.Col) else f"{call.name}_{len(fields)}")
            if out in skip:
                continue
            skip.add(out)
            fields.append(f"f{len(fields)} := {e.sql}")
            exp.columns.append((out, e.type, f"f{len(fields) - 1}"))
        fn = "arg_max" if name == "arg_max" else "arg_min"
        self.pending = exp
        return E(f"{fn}(struct_pack({', '.join(fields)}), {target.sql})", "dynamic")


def _wrapped_aggregate(expr: Any) -> ast.Call | None:
    while isinstance(expr, ast.Call) and expr.args:
        if expr.name in AGGREGATES:
            return expr
        expr = expr.args[0]
    return None


def compile_summarize(t: Tabular, op: ast.Summarize, rel: Rel) -> Rel:
    """``SELECT keys, aggregates FROM rel GROUP BY keys`` (+ an outer SELECT unpacking arg_max rows)."""
    keys_sc = t.scalars(rel)
    taken: set[str] = set()
    inner: list[str] = []  # SELECT items of the grouping query
    outer: list[tuple[str, str, str]] = []  # (output name, KQL type, SQL over the grouping query)
    for i, item in enumerate(op.by):
        expr = keys_sc.compile(item.expr)
        name = unique_name(item.name or _key_name(item.expr) or f"Column{i + 1}", taken)
        taken.add(name)
        inner.append(f"{expr.sql} AS {quote_ident(f'__k{i}')}")
        outer.append((name, expr.type, quote_ident(f"__k{i}")))
    aggs = Aggregates(t, rel, [n for n, _, _ in outer])
    agg_sc = t.scalars(rel, aggs)
    for j, item in enumerate(op.aggs):
        _add_aggregate(item, j, agg_sc, aggs, taken, inner, outer)
    if not inner:
        raise KqlSemanticError("'summarize' operator needs at least one aggregate or 'by' key")
    group = f" GROUP BY {', '.join(str(i + 1) for i in range(len(op.by)))}" if op.by else ""
    grouped = f"SELECT {', '.join(inner)} FROM ({rel.sql}) AS _t{group}"
    namer = Namer()
    cols = [namer.column(n, k) for n, k, _ in outer]
    select = ", ".join(f"{sql} AS {c.ident}" for c, (_, _, sql) in zip(cols, outer, strict=True))
    return Rel(f"SELECT {select} FROM ({grouped}) AS _g", cols)


def _add_aggregate(
    item: ast.Assign,
    j: int,
    sc: ScalarCompiler,
    aggs: Aggregates,
    taken: set[str],
    inner: list[str],
    outer: list[tuple[str, str, str]],
) -> None:
    aggs.pending = None
    expr = sc.compile(item.expr)
    alias = f"__a{j}"
    call = item.expr if isinstance(item.expr, ast.Call) and item.expr.name in AGGREGATES else None
    exp = aggs.pending
    if exp is not None and call is not None:
        inner.append(f"{expr.sql} AS {quote_ident(alias)}")
        names = item.names or []
        for k, (name, ktype, selector) in enumerate(exp.columns):
            if k == 0 and item.name:
                name = item.name
            if k < len(names):
                name = names[k]
            name = unique_name(name, taken)
            taken.add(name)
            outer.append((name, ktype, _Expansion.part(alias, selector)))
        aggs.expansions.append(exp)
        return
    inner_call = _wrapped_aggregate(item.expr)
    if call is not None:
        name = item.name or default_name(call)
    elif inner_call is not None:  # tostring(make_set(x)) is named after make_set(x): set_x
        name = item.name or default_name(inner_call)
    else:
        name = item.name or f"Column{len(outer) + 1}"
    name = unique_name(name, taken)
    taken.add(name)
    inner.append(f"{expr.sql} AS {quote_ident(alias)}")
    outer.append((name, expr.type, quote_ident(alias)))
