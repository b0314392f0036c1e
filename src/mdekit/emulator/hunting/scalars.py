"""Compile KQL scalar expressions to SQLite SQL with their KQL type.

Datetimes and timespans are integer microseconds, so ``ago()``/``now()`` become constants read
from the emulator's virtual clock at compile time and comparisons stay index-friendly.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError, KqlUnsupportedError

__all__ = ["AGGREGATES", "E", "ScalarCompiler", "quote_ident", "quote_str"]

_DAY = 86_400_000_000
_NUMERIC = ("long", "int", "real")
_NO_CONST = object()

#: Aggregation functions, valid only inside ``summarize``: name -> default column prefix.
AGGREGATES = {
    "count": "count_",
    "countif": "countif_",
    "dcount": "dcount",
    "dcountif": "dcountif",
    "sum": "sum",
    "sumif": "sumif",
    "avg": "avg",
    "avgif": "avgif",
    "min": "min",
    "max": "max",
    "make_set": "set",
    "make_list": "list",
    "arg_max": "",
    "arg_min": "",
    "any": "any",
    "take_any": "any",
}


def quote_ident(name: str) -> str:
    """A SQL identifier (double quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def quote_str(text: str) -> str:
    """A SQL string literal (single quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class E:
    """A compiled expression: SQL text, KQL type, and extras that allow simpler SQL."""

    sql: str
    type: str
    const: Any = _NO_CONST  # the Python value when the expression is a literal
    json: tuple[str, str] | None = None  # (base SQL, JSON path) for dynamic member chains

    @property
    def is_const(self) -> bool:
        """True for literals (their value is known at compile time)."""
        return self.const is not _NO_CONST


def _lit(value: Any, type_: str) -> E:
    if value is None:
        return E("NULL", type_, None)
    if type_ == "string":
        return E(quote_str(value), type_, value)
    if type_ == "bool":
        return E("1" if value else "0", type_, value)
    if type_ == "dynamic":
        return E(quote_str(json.dumps(value)), type_, value)
    if type_ == "real":
        return E(repr(float(value)), type_, value)
    return E(str(int(value)), type_, value)


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class ScalarCompiler:
    """Compiles expressions over a row with ``columns`` (name -> KQL type).

    ``resolve_let`` returns a scalar ``let`` value's AST (or ``None``); ``subquery`` compiles a
    tabular expression and returns the SQL of its first column (for ``in (T | project X)``).
    ``aggregate`` (set by ``summarize``) compiles aggregation calls; elsewhere they are errors.
    """

    def __init__(
        self,
        columns: dict[str, str],
        now_us: int,
        resolve_let: Callable[[str], Any],
        subquery: Callable[[Any], E | None],
        aggregate: Callable[[ast.Call], E] | None = None,
    ) -> None:
        self.columns = columns
        self.now_us = now_us
        self.resolve_let = resolve_let
        self.subquery = subquery
        self.aggregate = aggregate

    # --- dispatch ----------------------------------------------------------------------------
    def compile(self, node: Any) -> E:
        """Compile one expression node."""
        method = getattr(self, "_" + type(node).__name__.lower(), None)
        if method is None:
            raise KqlSemanticError(
                f"A tabular expression cannot be used as a scalar here ({type(node).__name__})"
            )
        result: E = method(node)
        return result

    def _lit(self, node: ast.Lit) -> E:
        return _lit(node.value, node.type)

    def _col(self, node: ast.Col) -> E:
        if node.name in self.columns:
            ktype = self.columns[node.name]
            sql = quote_ident(node.name)
            return E(sql, ktype, json=(sql, "$") if ktype == "dynamic" else None)
        bound = self.resolve_let(node.name)
        if bound is not None:
            return self.compile(bound)
        raise KqlSemanticError(f"Failed to resolve scalar expression named '{node.name}'")

    def _neg(self, node: ast.Neg) -> E:
        inner = self.compile(node.expr)
        return E(f"(-{inner.sql})", inner.type)

    def _star(self, _node: ast.Star) -> E:
        raise KqlSemanticError("'*' is only valid as an argument of arg_max/arg_min")

    def _member(self, node: ast.Member) -> E:
        obj = self.compile(node.obj)
        if obj.type not in ("dynamic", "string"):
            raise KqlSemanticError(f"Member access '.{node.key}' needs a dynamic value, not {obj.type}")
        base, path = obj.json or (obj.sql, "$")
        if isinstance(node.key, int):
            path += f"[#{node.key}]" if node.key < 0 else f"[{node.key}]"
        elif re.fullmatch(r"[A-Za-z_]\w*", node.key):
            path += "." + node.key
        else:
            path += '."' + node.key.replace('"', '\\"') + '"'
        return E(f"json_extract({base}, {quote_str(path)})", "dynamic", json=(base, path))

    def _index(self, node: ast.Index) -> E:
        obj, idx = self.compile(node.obj), self.compile(node.index)
        base, path = obj.json or (obj.sql, "$")
        if idx.type == "string":
            return E(f"json_extract({base}, {quote_str(path + '.')} || json_quote({idx.sql}))", "dynamic")
        return E(f"json_extract({base}, {quote_str(path + '[')} || ({idx.sql}) || ']')", "dynamic")

    # --- operators ---------------------------------------------------------------------------
    def _binop(self, node: ast.BinOp) -> E:
        op = node.op
        if op in ("and", "or"):
            left, right = self.compile(node.left), self.compile(node.right)
            return E(f"({left.sql} {op.upper()} {right.sql})", "bool")
        left, right = self.compile(node.left), self.compile(node.right)
        left, right = _coerce_dt(left, right), _coerce_dt(right, left)
        if op in ("==", "!=", "<>", "<", ">", "<=", ">="):
            sql_op = {"==": "=", "!=": "<>"}.get(op, op)
            return E(f"({left.sql} {sql_op} {right.sql})", "bool")
        if op in ("=~", "!~"):
            sql_op = "=" if op == "=~" else "<>"
            r = (
                _lit(right.const.lower(), "string").sql
                if isinstance(right.const, str)
                else f"lower({right.sql})"
            )
            return E(f"(lower({left.sql}) {sql_op} {r})", "bool")
        if op == "matches regex":
            return E(f"kql_regex({left.sql}, {right.sql})", "bool")
        if op in ("+", "-", "*", "/", "%"):
            return _arith(op, left, right)
        return self._string_op(op, left, right)

    def _string_op(self, op: str, left: E, right: E) -> E:
        negate = op.startswith("!")
        base = op.lstrip("!")
        if left.type not in ("string", "dynamic"):
            left = self.tostring(left)
        lit = right.const if isinstance(right.const, str) else None
        if base in ("contains", "startswith", "endswith") and lit is not None:
            pattern = {"contains": "%{}%", "startswith": "{}%", "endswith": "%{}"}[base]
            sql = f"({left.sql} LIKE {quote_str(pattern.format(_like_escape(lit)))} ESCAPE '\\')"
        elif base in ("contains_cs", "startswith_cs", "endswith_cs", "contains", "startswith", "endswith"):
            sql = f"kql_strop({quote_str(base)}, {left.sql}, {right.sql})"
        elif base in ("has", "has_cs", "hasprefix", "hasprefix_cs", "hassuffix", "hassuffix_cs"):
            sql = f"kql_{base}({left.sql}, {right.sql})"
        elif base in ("has_any", "has_all"):
            items = right.sql if right.type == "dynamic" else f"json_array({right.sql})"
            sql = f"kql_{base}({left.sql}, {items})"
        else:
            raise KqlUnsupportedError("operator", op)
        return E(f"(NOT {sql})" if negate else sql, "bool")

    def _in(self, node: ast.In) -> E:
        expr = self.compile(node.expr)
        ci = node.op.endswith("~")
        negate = node.op.startswith("!")
        values: list[str] = []
        subqueries: list[str] = []
        for item in node.items:
            self._in_item(item, ci, values, subqueries)
        target = f"lower({expr.sql})" if ci else expr.sql
        parts = [f"{target} IN ({', '.join(values)})"] if values else []
        parts += [f"{target} IN ({sq})" for sq in subqueries]
        sql = "(" + " OR ".join(parts) + ")" if parts else "(0)"
        return E(f"(NOT {sql})" if negate else sql, "bool")

    def _in_item(self, item: Any, ci: bool, values: list[str], subqueries: list[str]) -> None:
        if isinstance(item, ast.Col) and item.name not in self.columns:
            bound = self.resolve_let(item.name)
            if bound is not None and not isinstance(bound, ast.Pipeline):
                item = bound
        sub = self.subquery(item)
        if sub is not None:
            subqueries.append(f"SELECT lower({sub.sql})" if ci else f"SELECT {sub.sql}")
            return
        compiled = self.compile(item)
        if compiled.type == "dynamic" and isinstance(compiled.const, list):
            for v in compiled.const:
                val = v.lower() if ci and isinstance(v, str) else v
                values.append(_lit(val, _py_type(val)).sql)
            return
        values.append(f"lower({compiled.sql})" if ci else compiled.sql)

    def _between(self, node: ast.Between) -> E:
        expr, lo, hi = self.compile(node.expr), self.compile(node.lo), self.compile(node.hi)
        if expr.type == "datetime" and hi.type == "timespan":
            hi = E(f"({lo.sql} + {hi.sql})", "datetime")
        sql = f"({expr.sql} {'NOT ' if node.negate else ''}BETWEEN {lo.sql} AND {hi.sql})"
        return E(sql, "bool")

    def _call(self, node: ast.Call) -> E:
        name = node.name
        if name in AGGREGATES:
            if self.aggregate is None:
                raise KqlSemanticError(f"Aggregation function '{name}()' is only valid inside 'summarize'")
            return self.aggregate(node)
        from mdekit.emulator.hunting.functions import FUNCTIONS

        fn = FUNCTIONS.get(name)
        if fn is None:
            raise KqlUnsupportedError("function", name)
        return fn(self, node.args)

    # --- helpers used by the function table ----------------------------------------------------
    def tostring(self, e: E) -> E:
        """KQL ``tostring()``: every type to its text form (empty string for null)."""
        if e.type == "string":
            return e
        if e.type == "datetime":
            return E(f"kql_dt_str({e.sql})", "string")
        if e.type == "timespan":
            return E(f"kql_ts_str({e.sql})", "string")
        if e.type == "bool":
            return E(f"(CASE {e.sql} WHEN 1 THEN 'true' WHEN 0 THEN 'false' ELSE '' END)", "string")
        return E(f"coalesce(CAST({e.sql} AS TEXT), '')", "string")

    def now(self) -> int:
        """The virtual clock's now, in microseconds."""
        return self.now_us


def _py_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "long"
    if isinstance(value, float):
        return "real"
    if isinstance(value, str):
        return "string"
    return "dynamic"


def _coerce_dt(e: E, other: E) -> E:
    # `Timestamp > "2024-01-01"`: KQL compares a datetime with a string literal as a datetime.
    if other.type == "datetime" and isinstance(e.const, str):
        from mdekit.emulator.hunting.parser import datetime_us

        return _lit(datetime_us(e.const), "datetime")
    return e


def _arith(op: str, left: E, right: E) -> E:
    lt, rt = left.type, right.type
    if lt == "datetime" and rt == "datetime" and op == "-":
        return E(f"({left.sql} - {right.sql})", "timespan")
    if lt == "datetime" and rt == "timespan" and op in "+-":
        return E(f"({left.sql} {op} {right.sql})", "datetime")
    if lt == "timespan" and rt == "datetime" and op == "+":
        return E(f"({left.sql} + {right.sql})", "datetime")
    if lt == "timespan" and rt == "timespan":
        if op == "/":
            return E(f"(CAST({left.sql} AS REAL) / {right.sql})", "real")
        return E(f"({left.sql} {op} {right.sql})", "timespan")
    if "timespan" in (lt, rt) and op in "*/":
        return E(f"CAST({left.sql} {op} {right.sql} AS INTEGER)", "timespan")
    if lt in (*_NUMERIC, "dynamic", "bool") and rt in (*_NUMERIC, "dynamic", "bool"):
        ktype = "real" if "real" in (lt, rt) else "long"
        return E(f"({left.sql} {op} {right.sql})", ktype)
    raise KqlSemanticError(f"Operator '{op}' cannot be applied to {lt} and {rt}")
