"""Compile KQL scalar expressions to DuckDB SQL with their KQL type.

Datetimes and timespans are integer microseconds, so ``ago()``/``now()`` become constants read
from the emulator's virtual clock at compile time. Dynamic values are JSON text: member access is
``json_extract`` and a dynamic used as a string or number is read with ``json_extract_string``.

What a scalar needs from around it (``let`` values, tabular sub-expressions, the function table,
user-defined functions) comes through the :class:`Scope` protocol, so this module imports no
compiler module and the function tables import this one, never the reverse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Protocol

from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError, KqlUnsupportedError
from mdekit.emulator.hunting.sql import E, Rel, iso_datetime, lit, quote_str

__all__ = ["AGGREGATES", "Fn", "ScalarCompiler", "Scope", "Tabular", "has_pattern"]

_DAY = 86_400_000_000
NUMERIC = ("long", "int", "real")

#: Aggregation functions, valid only inside ``summarize``: name -> default column prefix.
AGGREGATES = {
    "count": "count_",
    "countif": "countif_",
    "dcount": "dcount",
    "dcountif": "dcountif",
    "count_distinct": "count_distinct",
    "count_distinctif": "count_distinctif",
    "sum": "sum",
    "sumif": "sumif",
    "avg": "avg",
    "avgif": "avgif",
    "min": "min",
    "max": "max",
    "minif": "minif",
    "maxif": "maxif",
    "make_set": "set",
    "makeset": "set",
    "make_set_if": "set",
    "make_list": "list",
    "makelist": "list",
    "make_list_if": "list",
    "make_list_with_nulls": "list",
    "make_bag": "bag",
    "make_bag_if": "bag",
    "arg_max": "",
    "arg_min": "",
    "argmax": "",
    "argmin": "",
    "any": "any",
    "take_any": "any",
    "take_anyif": "any",
    "anyif": "any",
    "percentile": "percentile",
    "percentiles": "percentile",
    "stdev": "stdev",
    "stdevif": "stdevif",
    "variance": "variance",
    "varianceif": "varianceif",
    "binary_all_or": "binary_all_or",
    "binary_all_and": "binary_all_and",
}

Fn = Callable[["ScalarCompiler", list[Any]], E]


class Scope(Protocol):
    """What scalar compilation asks of the query around it."""

    now_us: int

    def resolve_scalar(self, name: str) -> Any | None:
        """The AST of scalar ``let`` *name*, or ``None``."""

    def tabular_or_none(self, node: Any) -> Rel | None:
        """*node* compiled when it is a tabular expression, else ``None``."""

    def function(self, name: str) -> Fn | None:
        """The built-in scalar function *name*, or ``None``."""

    def call_user(self, name: str, args: list[Any], sc: ScalarCompiler) -> E | None:
        """A call of the user-defined scalar function *name*, or ``None`` if there is none."""

    def scalar_value(self, rel: Rel) -> tuple[bool, Any]:
        """``(True, value)`` of the first cell of *rel* evaluated now, or ``(False, None)``."""


class Tabular(Protocol):
    """What tabular operator modules ask of the compiler."""

    now_us: int

    def tabular(self, node: Any) -> Rel:
        """Compile a tabular expression."""

    def scalars(self, rel: Rel, aggregate: Callable[[ast.Call], E] | None = None) -> ScalarCompiler:
        """A scalar compiler over *rel*'s columns."""

    def probe(self, sql: str) -> list[tuple[Any, ...]]:
        """Run *sql* now (for operators whose output columns depend on the data)."""


def has_pattern(terms: list[str], mode: str = "") -> str:
    r"""An RE2 pattern matching any of *terms* as KQL terms (``has``).

    A term is bounded by non-alphanumerics where it starts or ends with an alphanumeric character
    (``has "cmd"`` does not match ``cmd2``); an edge that is itself punctuation (``has @"\Run"``,
    ``has "/i:"``) needs no boundary.
    """
    alts = []
    for t in terms:
        lead = "(^|[^0-9A-Za-z])" if mode != "suffix" and t[:1].isalnum() else ""
        trail = "($|[^0-9A-Za-z])" if mode != "prefix" and t[-1:].isalnum() else ""
        alts.append(f"{lead}{re.escape(t)}{trail}")
    return "(" + "|".join(alts) + ")"


class ScalarCompiler:
    """Compiles expressions over a row with the columns of *rel*.

    ``aggregate`` (set by ``summarize``) compiles aggregation calls; elsewhere they are errors.
    """

    def __init__(self, rel: Rel, scope: Scope, aggregate: Callable[[ast.Call], E] | None = None) -> None:
        self.rel = rel
        self.columns = {c.name: c for c in rel.cols}
        self.scope = scope
        self.aggregate = aggregate
        self.now_us = scope.now_us

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
        return lit(node.value, node.type)

    def _col(self, node: ast.Col) -> E:
        col = self.columns.get(node.name)
        if col is not None:
            return E(col.ident, col.type, json=(col.ident, "$") if col.type == "dynamic" else None)
        bound = self.scope.resolve_scalar(node.name)
        if bound is not None:
            return self.compile(bound)
        raise KqlSemanticError(f"Failed to resolve scalar expression named '{node.name}'")

    def _pipeline(self, node: ast.Pipeline) -> E:
        if not node.ops:
            return self.compile(node.source)
        raise KqlSemanticError("A tabular expression cannot be used as a scalar (use toscalar())")

    def _neg(self, node: ast.Neg) -> E:
        inner = self.compile(node.expr)
        return E(f"(-{self.number(inner).sql})", inner.type if inner.type != "dynamic" else "real")

    def _star(self, _node: ast.Star) -> E:
        raise KqlSemanticError("'*' is only valid as an argument of arg_max/arg_min and count")

    def _namedarg(self, node: ast.NamedArg) -> E:
        raise KqlSemanticError(f"Named argument '{node.name}' is not valid here")

    def _member(self, node: ast.Member) -> E:
        obj = self.compile(node.obj)
        if obj.type not in ("dynamic", "string"):
            raise KqlSemanticError(f"Member access '.{node.key}' needs a dynamic value, not {obj.type}")
        base, path = obj.json or (self._json_base(obj), "$")
        if isinstance(node.key, int):
            path += f"[#{node.key}]" if node.key < 0 else f"[{node.key}]"
        elif re.fullmatch(r"[A-Za-z_]\w*", node.key):
            path += "." + node.key
        else:
            path += '."' + node.key.replace('"', '\\"') + '"'
        return E(f"json_extract({base}, {quote_str(path)})", "dynamic", json=(base, path))

    def _json_base(self, obj: E) -> str:
        # A string column holding JSON (AdditionalFields, LoggedOnUsers): invalid JSON reads as null.
        return f"(CASE WHEN json_valid({obj.sql}) THEN {obj.sql} END)" if obj.type == "string" else obj.sql

    def _index(self, node: ast.Index) -> E:
        obj, idx = self.compile(node.obj), self.compile(node.index)
        base, path = obj.json or (self._json_base(obj), "$")
        if idx.type == "string":
            key = f"replace({idx.sql}, '\"', '\\\"')"
            return E(f"json_extract({base}, {quote_str(path + '.')} || '\"' || {key} || '\"')", "dynamic")
        return E(f"json_extract({base}, {quote_str(path + '[')} || ({idx.sql}) || ']')", "dynamic")

    # --- coercions used everywhere --------------------------------------------------------------
    def text(self, e: E) -> E:
        """*e* as a string for string operators (``null`` stays null; see :meth:`tostring`)."""
        if e.type == "string":
            return e
        if e.type == "dynamic":
            base, path = e.json or (e.sql, "$")
            return E(f"json_extract_string({base}, {quote_str(path)})", "string")
        return self.tostring(e)

    def tostring(self, e: E) -> E:
        """KQL ``tostring()``: every type to its text form (empty string for null)."""
        if e.type == "string":
            return e
        if e.type == "dynamic":
            return E(f"coalesce({self.text(e).sql}, '')", "string")
        if e.type == "datetime":
            sql = iso_datetime(e.sql)
            return E(f"coalesce({sql}, '')", "string")
        if e.type == "timespan":
            return E(f"coalesce(kql_ts_str({e.sql}), '')", "string")
        if e.type == "bool":
            return E(f"(CASE {e.sql} WHEN TRUE THEN 'true' WHEN FALSE THEN 'false' ELSE '' END)", "string")
        if e.type == "real":
            return E(f"coalesce(kql_real_str({e.sql}), '')", "string")
        return E(f"coalesce(CAST({e.sql} AS VARCHAR), '')", "string")

    def number(self, e: E) -> E:
        """*e* as a number (a dynamic or string value read as a double)."""
        if e.type in ("dynamic", "string"):
            return E(f"TRY_CAST({self.text(e).sql} AS DOUBLE)", "real")
        if e.type == "bool":
            return E(f"CAST({e.sql} AS BIGINT)", "long")
        return e

    def boolean(self, e: E) -> E:
        """*e* as a predicate."""
        if e.type == "bool":
            return e
        if e.type in ("dynamic", "string"):
            return E(f"TRY_CAST({self.text(e).sql} AS BOOLEAN)", "bool")
        if e.type in NUMERIC:
            return E(f"({e.sql} <> 0)", "bool")
        raise KqlSemanticError(f"A {e.type} value cannot be used as a predicate")

    def json_value(self, e: E) -> str:
        """SQL for *e* as a JSON value (for building dynamic arrays and bags)."""
        if e.type == "dynamic":
            return f"CAST({e.sql} AS JSON)"
        if e.type == "datetime":
            return iso_datetime(e.sql)
        if e.type == "timespan":
            return f"kql_ts_str({e.sql})"
        return e.sql

    # --- operators ---------------------------------------------------------------------------
    def _boolop(self, node: ast.BoolOp) -> E:
        parts = [self.boolean(self.compile(i)).sql for i in node.items]
        return E("(" + f" {node.op.upper()} ".join(parts) + ")", "bool")

    def _binop(self, node: ast.BinOp) -> E:
        op = node.op
        left, right = self.compile(node.left), self.compile(node.right)
        if op in ("==", "!=", "<>", "<", ">", "<=", ">="):
            return self._compare(op, left, right)
        if op in ("=~", "!~"):
            lt = self.text(left).sql
            r = (
                quote_str(right.const.lower())
                if isinstance(right.const, str)
                else f"lower({self.text(right).sql})"
            )
            cmp = "=" if op == "=~" else "IS DISTINCT FROM"
            return E(f"(lower({lt}) {cmp} {r})", "bool")
        if op == "matches regex":
            return E(f"regexp_matches({self.text(left).sql}, {self.text(right).sql})", "bool")
        if op in ("+", "-", "*", "/", "%"):
            return _arith(
                op,
                self.number(left) if left.type == "dynamic" else left,
                self.number(right) if right.type == "dynamic" else right,
            )
        return self._string_op(op, left, right)

    def _compare(self, op: str, left: E, right: E) -> E:
        left, right = _coerce_dt(left, right), _coerce_dt(right, left)
        if "dynamic" in (left.type, right.type) and left.type != right.type:
            other = right if left.type == "dynamic" else left
            conv = (
                self.number if other.type in NUMERIC else self.boolean if other.type == "bool" else self.text
            )
            left, right = (conv(left), right) if left.type == "dynamic" else (left, conv(right))
        elif left.type == "dynamic" and right.type == "dynamic":
            left, right = self.text(left), self.text(right)
        sql_op = {"==": "=", "!=": "IS DISTINCT FROM", "<>": "IS DISTINCT FROM"}.get(op, op)
        if sql_op == "=" and (left.const is None or right.const is None):
            return E("FALSE", "bool")  # x == null is never true (use isnull())
        return E(f"({left.sql} {sql_op} {right.sql})", "bool")

    def _string_op(self, op: str, left: E, right: E) -> E:
        negate = op.startswith("!")
        base = op.lstrip("!")
        text = self.text(left).sql
        needle = right.const if isinstance(right.const, str) else None
        if needle is None and right.is_const and right.const is not None:
            needle = str(right.const)
        sql = self._string_sql(base, text, needle, self.text(right).sql)
        if negate:
            return E(f"(NOT coalesce({sql}, FALSE))", "bool")
        return E(sql, "bool")

    def _string_sql(self, base: str, text: str, needle: str | None, needle_sql: str) -> str:
        cs = base.endswith("_cs")
        kind = base.removesuffix("_cs")
        if kind in ("contains", "startswith", "endswith"):
            fn = {"contains": "contains", "startswith": "starts_with", "endswith": "ends_with"}[kind]
            if cs or (needle is not None and needle.lower() == needle.upper()):
                return f"{fn}({text}, {needle_sql})"
            value = quote_str(needle.lower()) if needle is not None else f"lower({needle_sql})"
            return f"{fn}(lower({text}), {value})"
        if kind in ("has", "hasprefix", "hassuffix"):
            mode = {"has": "", "hasprefix": "prefix", "hassuffix": "suffix"}[kind]
            if needle is None:
                lead = "'('" if mode == "suffix" else "'(^|[^0-9A-Za-z])('"
                trail = "')'" if mode == "prefix" else "')($|[^0-9A-Za-z])'"
                pattern = f"{lead} || regexp_escape({needle_sql}) || {trail}"
                pre = (
                    f"contains({text}, {needle_sql})"
                    if cs
                    else f"contains(lower({text}), lower({needle_sql}))"
                )
                return f"({pre} AND regexp_matches({text}, {pattern}, {quote_str('' if cs else 'i')}))"
            if needle == "":
                return "TRUE"
            return _has_sql(text, [needle], mode, cs)
        raise KqlUnsupportedError("operator", base)

    def _listop(self, node: ast.ListOp) -> E:
        negate = node.op.startswith("!")
        kind = node.op.lstrip("!")
        text = self.text(self.compile(node.expr)).sql
        tables = [t for t in (self._tabular_item(i) for i in node.items) if t is not None]
        if tables:
            if len(tables) != len(node.items) or kind != "has_any":
                raise KqlUnsupportedError(f"{kind} argument", "a mix of tables and values")
            sql = "(" + " OR ".join(_has_any_table(text, rel) for rel in tables) + ")"
            return E(f"(NOT coalesce({sql}, FALSE))" if negate else sql, "bool")
        values = self._list_values(node.items, kind)
        if not values:
            sql = "FALSE" if kind == "has_any" else "TRUE"
        elif kind == "has_any":
            sql = _has_sql(text, values, "", False)
        else:
            sql = "(" + " AND ".join(_has_sql(text, [v], "", False) for v in values) + ")"
        return E(f"(NOT coalesce({sql}, FALSE))" if negate else sql, "bool")

    def _tabular_item(self, item: Any) -> Rel | None:
        if isinstance(item, ast.Col) and item.name in self.columns:
            return None
        return self.scope.tabular_or_none(item)

    def _list_values(self, items: list[Any], what: str) -> list[str]:
        out: list[str] = []
        for item in items:
            value = self.compile(item)
            if not value.is_const:
                raise KqlUnsupportedError(
                    f"{what} argument", "a non-constant list (use literals or a let list)"
                )
            consts = value.const if isinstance(value.const, list) else [value.const]
            out += [str(v).lower() for v in consts if v is not None]
        return [v for v in out if v != ""] if what == "has_any" else out

    def _anycolumnop(self, node: ast.AnyColumnOp) -> E:
        right = self.compile(node.right)
        parts = []
        for col in self.rel.cols:
            if col.type in ("string", "dynamic"):
                e = E(col.ident, col.type)
                parts.append(self._string_op(node.op, e, right).sql)
        return E("(" + (" OR ".join(parts) or "FALSE") + ")", "bool")

    def _in(self, node: ast.In) -> E:
        expr = self.compile(node.expr)
        ci = node.op.endswith("~")
        if expr.type == "dynamic":
            expr = self.text(expr)
        target = f"lower({self.text(expr).sql})" if ci else expr.sql
        values: list[str] = []
        parts: list[str] = []
        for item in node.items:
            self._in_item(item, ci, expr.type, target, values, parts)
        if values:
            parts.insert(0, f"{target} IN ({', '.join(values)})")
        sql = "(" + " OR ".join(parts) + ")" if parts else "FALSE"
        if node.op.startswith("!"):
            return E(f"(NOT coalesce({sql}, FALSE))", "bool")
        return E(sql, "bool")

    def _in_item(
        self, item: Any, ci: bool, ktype: str, target: str, values: list[str], parts: list[str]
    ) -> None:
        sub = (
            None
            if isinstance(item, ast.Col) and item.name in self.columns
            else self.scope.tabular_or_none(item)
        )
        if sub is None and isinstance(item, ast.Col) and item.name not in self.columns:
            bound = self.scope.resolve_scalar(item.name)
            if bound is not None:
                item = bound
                sub = self.scope.tabular_or_none(item)
        if sub is not None:
            if not sub.cols:
                raise KqlSemanticError("A tabular expression used with 'in' has no columns")
            first = sub.cols[0]
            col = first.ident if first.type != "dynamic" else f"json_extract_string({first.ident}, '$')"
            col = f"lower(CAST({col} AS VARCHAR))" if ci else col
            parts.append(f"{target} IN (SELECT {col} FROM ({sub.sql}) AS _s)")
            return
        compiled = self.compile(item)
        if compiled.type == "dynamic" and compiled.is_const:
            consts = compiled.const if isinstance(compiled.const, list) else [compiled.const]
            for v in consts:
                if v is not None:
                    val = v.lower() if ci and isinstance(v, str) else v
                    values.append(lit(val, _py_type(val, ktype)).sql)
            return
        if compiled.type == "dynamic":  # a computed array (toscalar(make_set(...)), a column)
            base, path = compiled.json or (compiled.sql, "$")
            arr = f"json_extract_string({base}, {quote_str(path + '[*]')})"
            arr = f"list_transform({arr}, lambda x: lower(x))" if ci else arr
            parts.append(f"list_contains({arr}, CAST({target} AS VARCHAR))")
            return
        values.append(f"lower({self.text(compiled).sql})" if ci else compiled.sql)

    def _between(self, node: ast.Between) -> E:
        expr, lo, hi = self.compile(node.expr), self.compile(node.lo), self.compile(node.hi)
        lo, hi = _coerce_dt(lo, expr), _coerce_dt(hi, expr)
        if expr.type == "datetime" and hi.type == "timespan":
            hi = E(f"({lo.sql} + {hi.sql})", "datetime")
        if expr.type == "dynamic":
            expr = self.number(expr)
        sql = f"({expr.sql} {'NOT ' if node.negate else ''}BETWEEN {lo.sql} AND {hi.sql})"
        return E(sql, "bool")

    def _call(self, node: ast.Call) -> E:
        name = node.name
        if name in AGGREGATES:
            if self.aggregate is None:
                raise KqlSemanticError(f"Aggregation function '{name}()' is only valid inside 'summarize'")
            return self.aggregate(node)
        user = self.scope.call_user(name, node.args, self)
        if user is not None:
            return user
        fn = self.scope.function(name)
        if fn is None:
            raise KqlUnsupportedError("function", name)
        return fn(self, node.args)


def _has_sql(text: str, terms: list[str], mode: str, cs: bool) -> str:
    """``has`` for literal terms: a cheap ``contains`` pre-filter, then the term-boundary regex."""
    cs = cs or all(t.lower() == t.upper() for t in terms)  # no letters (an IP, a number): no case to fold
    lowered = [t if cs else t.lower() for t in terms]
    hay = text if cs else f"lower({text})"
    pre = " OR ".join(f"contains({hay}, {quote_str(t)})" for t in dict.fromkeys(lowered))
    flags = "" if cs else ", 'i'"
    return f"(({pre}) AND regexp_matches({text}, {quote_str(has_pattern(terms, mode))}{flags}))"


def _has_any_table(text: str, rel: Rel) -> str:
    """``has_any (T)``: the terms are the first column of a table, matched as one regex built in SQL."""
    if not rel.cols:
        raise KqlSemanticError("A tabular expression used with has_any has no columns")
    col = rel.cols[0].ident
    pattern = (
        "(SELECT '(^|[^0-9A-Za-z])(' || "
        f"string_agg(DISTINCT regexp_escape(lower(CAST({col} AS VARCHAR))), '|') "
        f"|| ')($|[^0-9A-Za-z])' FROM ({rel.sql}) AS _h WHERE coalesce(CAST({col} AS VARCHAR), '') <> '')"
    )
    return f"coalesce(regexp_matches(lower({text}), {pattern}), FALSE)"


def _py_type(value: Any, target: str) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "long" if target in NUMERIC or target in ("datetime", "timespan") else "string"
    if isinstance(value, float):
        return "real"
    return "string"


def _coerce_dt(e: E, other: E) -> E:
    # `Timestamp > "2024-01-01"`: KQL compares a datetime with a string literal as a datetime.
    if other.type == "datetime" and isinstance(e.const, str):
        from mdekit.emulator.hunting.parser import datetime_us

        return lit(datetime_us(e.const), "datetime")
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
            return E(f"(CAST({left.sql} AS DOUBLE) / {right.sql})", "real")
        return E(f"({left.sql} {op} {right.sql})", "timespan")
    if "timespan" in (lt, rt) and op in "*/":
        return E(f"CAST(({left.sql}) {op} ({right.sql}) AS BIGINT)", "timespan")
    if lt in (*NUMERIC, "bool") and rt in (*NUMERIC, "bool"):
        ktype = "real" if "real" in (lt, rt) else "long"
        sql_op = "//" if op == "/" and ktype == "long" else op
        return E(f"({left.sql} {sql_op} {right.sql})", ktype)
    if "null" in (lt, rt):
        return E("NULL", "real")
    raise KqlSemanticError(f"Operator '{op}' cannot be applied to {lt} and {rt}")
