"""KQL scalar functions: name -> a compiler from argument nodes to SQL (see :mod:`.scalars`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError
from mdekit.emulator.hunting.scalars import E, ScalarCompiler, quote_str

__all__ = ["FUNCTIONS"]

_DAY = 86_400_000_000
Fn = Callable[[ScalarCompiler, list[Any]], E]


def _args(c: ScalarCompiler, args: list[Any], name: str, lo: int, hi: int | None = None) -> list[E]:
    hi = lo if hi is None else hi
    if not lo <= len(args) <= hi:
        want = str(lo) if lo == hi else f"{lo}-{hi}"
        raise KqlSemanticError(f"Function '{name}' expects {want} argument(s), got {len(args)}")
    return [c.compile(a) for a in args]


def _simple(name: str, sql: str, ktype: str, n: int = 1) -> Fn:
    def build(c: ScalarCompiler, args: list[Any]) -> E:
        parts = _args(c, args, name, n)
        return E(sql.format(*(p.sql for p in parts)), ktype)

    return build


def _ago(c: ScalarCompiler, args: list[Any]) -> E:
    (span,) = _args(c, args, "ago", 1)
    if isinstance(span.const, int):
        return E(str(c.now() - span.const), "datetime", c.now() - span.const)
    return E(f"({c.now()} - {span.sql})", "datetime")


def _now(c: ScalarCompiler, args: list[Any]) -> E:
    parts = _args(c, args, "now", 0, 1)
    if parts:
        return E(f"({c.now()} + {parts[0].sql})", "datetime")
    return E(str(c.now()), "datetime", c.now())


def _bin(c: ScalarCompiler, args: list[Any]) -> E:
    value, size = _args(c, args, "bin", 2)
    if value.type == "real" or size.type == "real":
        return E(f"kql_bin_real({value.sql}, {size.sql})", "real")
    # ((x % s) + s) % s keeps times before 1970 (negative x) in the right bin.
    return E(f"({value.sql} - ((({value.sql}) % {size.sql}) + {size.sql}) % {size.sql})", value.type)


def _startofday(c: ScalarCompiler, args: list[Any]) -> E:
    parts = _args(c, args, "startofday", 1, 2)
    dt = parts[0].sql
    base = f"({dt} - ((({dt}) % {_DAY}) + {_DAY}) % {_DAY})"
    return E(f"({base} + ({parts[1].sql}) * {_DAY})" if len(parts) == 2 else base, "datetime")


def _startof(unit: str) -> Fn:
    def build(c: ScalarCompiler, args: list[Any]) -> E:
        (dt,) = _args(c, args, f"startof{unit}", 1)
        return E(f"kql_startof('{unit}', {dt.sql})", "datetime")

    return build


def _strcat(c: ScalarCompiler, args: list[Any]) -> E:
    if not args:
        raise KqlSemanticError("Function 'strcat' expects at least 1 argument")
    parts = [c.tostring(c.compile(a)).sql for a in args]
    return E("(" + " || ".join(f"coalesce({p}, '')" for p in parts) + ")", "string")


def _tostring(c: ScalarCompiler, args: list[Any]) -> E:
    (value,) = _args(c, args, "tostring", 1)
    return c.tostring(value)


def _split(c: ScalarCompiler, args: list[Any]) -> E:
    parts = _args(c, args, "split", 2, 3)
    arr = f"kql_split({c.tostring(parts[0]).sql}, {parts[1].sql})"
    if len(parts) == 3:
        return E(f"json_array(json_extract({arr}, '$[' || ({parts[2].sql}) || ']'))", "dynamic")
    return E(arr, "dynamic", json=(arr, "$"))


def _extract(c: ScalarCompiler, args: list[Any]) -> E:
    parts = _args(c, args, "extract", 3, 4)
    sql = f"kql_extract({parts[0].sql}, {parts[1].sql}, {c.tostring(parts[2]).sql})"
    return E(sql, "string")


def _parse_json(c: ScalarCompiler, args: list[Any]) -> E:
    (value,) = _args(c, args, "parse_json", 1)
    if value.type == "dynamic":
        return value
    sql = f"(CASE WHEN json_valid({value.sql}) THEN {value.sql} ELSE json_quote({value.sql}) END)"
    return E(sql, "dynamic", json=(sql, "$"))


def _to(kind: str) -> Fn:
    def build(c: ScalarCompiler, args: list[Any]) -> E:
        (value,) = _args(c, args, "to" + kind, 1)
        if kind in ("int", "long"):
            return E(f"kql_tolong({value.sql})", kind)
        if kind == "datetime":
            return value if value.type == "datetime" else E(f"kql_todatetime({value.sql})", "datetime")
        return E(f"kql_todouble({value.sql})", "real")

    return build


def _format_datetime(c: ScalarCompiler, args: list[Any]) -> E:
    dt, fmt = _args(c, args, "format_datetime", 2)
    return E(f"kql_format_datetime({dt.sql}, {fmt.sql})", "string")


def _period(c: ScalarCompiler, node: Any, fn: str) -> str:
    # The period is a bare word in KQL (datetime_diff('day', ...) and datetime_diff(day, ...)).
    if isinstance(node, ast.Col) and node.name not in c.columns:
        return quote_str(node.name)
    return c.compile(node).sql


def _datetime_diff(c: ScalarCompiler, args: list[Any]) -> E:
    if len(args) != 3:
        raise KqlSemanticError("Function 'datetime_diff' expects 3 arguments")
    a, b = c.compile(args[1]), c.compile(args[2])
    return E(f"kql_datetime_diff({_period(c, args[0], 'datetime_diff')}, {a.sql}, {b.sql})", "long")


def _datetime_add(c: ScalarCompiler, args: list[Any]) -> E:
    if len(args) != 3:
        raise KqlSemanticError("Function 'datetime_add' expects 3 arguments")
    n, dt = c.compile(args[1]), c.compile(args[2])
    return E(f"kql_datetime_add({_period(c, args[0], 'datetime_add')}, {n.sql}, {dt.sql})", "datetime")


def _iff(c: ScalarCompiler, args: list[Any]) -> E:
    cond, then, other = _args(c, args, "iff", 3)
    return E(f"(CASE WHEN {cond.sql} THEN {then.sql} ELSE {other.sql} END)", then.type)


def _case(c: ScalarCompiler, args: list[Any]) -> E:
    if len(args) < 3 or len(args) % 2 == 0:
        raise KqlSemanticError("Function 'case' expects predicate/value pairs and an else value")
    parts = [c.compile(a) for a in args]
    whens = " ".join(f"WHEN {parts[i].sql} THEN {parts[i + 1].sql}" for i in range(0, len(parts) - 1, 2))
    return E(f"(CASE {whens} ELSE {parts[-1].sql} END)", parts[1].type)


def _coalesce(c: ScalarCompiler, args: list[Any]) -> E:
    parts = [c.compile(a) for a in args]
    if len(parts) < 2:
        raise KqlSemanticError("Function 'coalesce' expects at least 2 arguments")
    return E(f"coalesce({', '.join(p.sql for p in parts)})", parts[0].type)


def _substring(c: ScalarCompiler, args: list[Any]) -> E:
    parts = _args(c, args, "substring", 2, 3)
    text = c.tostring(parts[0]).sql
    if len(parts) == 3:
        return E(f"substr({text}, ({parts[1].sql}) + 1, {parts[2].sql})", "string")
    return E(f"substr({text}, ({parts[1].sql}) + 1)", "string")


def _isempty(negate: bool) -> Fn:
    def build(c: ScalarCompiler, args: list[Any]) -> E:
        (value,) = _args(c, args, "isnotempty" if negate else "isempty", 1)
        if negate:
            return E(f"({value.sql} IS NOT NULL AND {value.sql} <> '')", "bool")
        return E(f"({value.sql} IS NULL OR {value.sql} = '')", "bool")

    return build


def _dayofweek(c: ScalarCompiler, args: list[Any]) -> E:
    (dt,) = _args(c, args, "dayofweek", 1)
    return E(f"(((({dt.sql}) / {_DAY}) + 4) % 7 * {_DAY})", "timespan")


def _hourofday(c: ScalarCompiler, args: list[Any]) -> E:
    (dt,) = _args(c, args, "hourofday", 1)
    return E(f"((({dt.sql}) / 3600000000) % 24)", "int")


def _round(c: ScalarCompiler, args: list[Any]) -> E:
    parts = _args(c, args, "round", 1, 2)
    digits = parts[1].sql if len(parts) == 2 else "0"
    return E(f"round({parts[0].sql}, {digits})", "real")


def _array_length(c: ScalarCompiler, args: list[Any]) -> E:
    (value,) = _args(c, args, "array_length", 1)
    return E(f"json_array_length({value.sql})", "long")


def _not(c: ScalarCompiler, args: list[Any]) -> E:
    (value,) = _args(c, args, "not", 1)
    return E(f"(NOT {value.sql})", "bool")


FUNCTIONS: dict[str, Fn] = {
    "ago": _ago,
    "now": _now,
    "bin": _bin,
    "floor": _bin,
    "startofday": _startofday,
    "startofweek": _startof("week"),
    "startofmonth": _startof("month"),
    "startofyear": _startof("year"),
    "tolower": _simple("tolower", "lower({0})", "string"),
    "toupper": _simple("toupper", "upper({0})", "string"),
    "strlen": _simple("strlen", "length({0})", "long"),
    "strcat": _strcat,
    "split": _split,
    "extract": _extract,
    "tostring": _tostring,
    "toint": _to("int"),
    "tolong": _to("long"),
    "todouble": _to("double"),
    "toreal": _to("double"),
    "todatetime": _to("datetime"),
    "parse_json": _parse_json,
    "todynamic": _parse_json,
    "format_datetime": _format_datetime,
    "datetime_diff": _datetime_diff,
    "datetime_add": _datetime_add,
    "iff": _iff,
    "iif": _iff,
    "case": _case,
    "coalesce": _coalesce,
    "substring": _substring,
    "isempty": _isempty(False),
    "isnotempty": _isempty(True),
    "isnull": _simple("isnull", "({0} IS NULL)", "bool"),
    "isnotnull": _simple("isnotnull", "({0} IS NOT NULL)", "bool"),
    "replace_string": _simple("replace_string", "replace({0}, {1}, {2})", "string", 3),
    "indexof": _simple("indexof", "(instr({0}, {1}) - 1)", "long", 2),
    "dayofweek": _dayofweek,
    "hourofday": _hourofday,
    "abs": lambda c, a: (lambda v: E(f"abs({v.sql})", v.type))(_args(c, a, "abs", 1)[0]),
    "round": _round,
    "array_length": _array_length,
    "not": _not,
}
