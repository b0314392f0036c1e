"""KQL conversions, conditionals, math, bitwise, hashing and network functions."""

from __future__ import annotations

from typing import Any

from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError
from mdekit.emulator.hunting.fn_dynamic import dyn
from mdekit.emulator.hunting.fnbase import args, simple, text_fn
from mdekit.emulator.hunting.scalars import NUMERIC, Fn, ScalarCompiler
from mdekit.emulator.hunting.sql import E, lit

__all__ = ["MISC_FUNCTIONS"]

_INT_TYPES = {"int": "INTEGER", "long": "BIGINT"}


def _to_int(kind: str) -> Fn:
    def build(c: ScalarCompiler, items: list[Any]) -> E:
        (value,) = args(c, items, "to" + kind, 1)
        sql_type = _INT_TYPES[kind]
        if value.type == "real":
            return E(f"TRY_CAST(trunc({value.sql}) AS {sql_type})", kind)
        if value.type in ("string", "dynamic"):
            text = c.text(value).sql
            return E(
                f"coalesce(TRY_CAST({text} AS {sql_type}), "
                f"TRY_CAST(trunc(TRY_CAST({text} AS DOUBLE)) AS {sql_type}))",
                kind,
            )
        if value.type in ("datetime", "timespan"):
            return E(f"CAST(({value.sql}) * 10 AS {sql_type})", kind)  # 100 ns ticks
        return E(f"TRY_CAST({value.sql} AS {sql_type})", kind)

    return build


def _to_real(c: ScalarCompiler, items: list[Any]) -> E:
    (value,) = args(c, items, "todouble", 1)
    if value.type in ("string", "dynamic"):
        return E(f"TRY_CAST({c.text(value).sql} AS DOUBLE)", "real")
    return E(f"TRY_CAST({value.sql} AS DOUBLE)", "real")


def _to_bool(c: ScalarCompiler, items: list[Any]) -> E:
    (value,) = args(c, items, "tobool", 1)
    if value.type in ("string", "dynamic"):
        return E(f"TRY_CAST({c.text(value).sql} AS BOOLEAN)", "bool")
    return c.boolean(value)


def _typed_literal(kind: str) -> Fn:
    # long(5), int(null), real(1.5), bool(true), timespan(1d), time(1d), guid(...), string(x)
    def build(c: ScalarCompiler, items: list[Any]) -> E:
        (value,) = args(c, items, kind, 1)
        target = {
            "double": "real",
            "decimal": "real",
            "time": "timespan",
            "guid": "string",
            "boolean": "bool",
        }.get(kind, kind)
        if value.const is None:
            return lit(None, target)
        if target == value.type or (target in NUMERIC and value.type in NUMERIC):
            return E(value.sql, target, value.const)
        if target == "string":
            return c.tostring(value)
        if isinstance(value.const, str) and target in ("long", "int", "real"):
            return E(f"TRY_CAST({value.sql} AS {'DOUBLE' if target == 'real' else 'BIGINT'})", target)
        return E(value.sql, target, value.const)

    return build


def _iff(c: ScalarCompiler, items: list[Any]) -> E:
    cond, then, other = args(c, items, "iff", 3)
    then, other = _align(c, then, other)
    return E(f"(CASE WHEN {c.boolean(cond).sql} THEN {then.sql} ELSE {other.sql} END)", then.type)


def _align(c: ScalarCompiler, a: E, b: E) -> tuple[E, E]:
    """Two branch values of one type (null literals take the other's type; dynamic wins over text)."""
    if (a.const is None and b.const is not None) or a.type == "null":
        return lit(None, b.type), b
    if (b.const is None and a.const is not None) or b.type == "null":
        return a, lit(None, a.type)
    if a.type == b.type or (a.type in NUMERIC and b.type in NUMERIC):
        return a, b
    if "string" in (a.type, b.type):
        return c.tostring(a), c.tostring(b)
    return a, b


def _case(c: ScalarCompiler, items: list[Any]) -> E:
    if len(items) < 3 or len(items) % 2 == 0:
        raise KqlSemanticError("Function 'case' expects predicate/value pairs and an else value")
    parts = [c.compile(a) for a in items]
    values = [parts[i] for i in range(1, len(parts) - 1, 2)] + [parts[-1]]
    kind = next((v.type for v in values if v.const is not None and v.type != "null"), values[0].type)
    if kind != "string" and any(v.type == "string" for v in values):
        kind = "string"

    def value(v: E) -> str:
        if v.const is None:
            return lit(None, kind).sql
        return c.tostring(v).sql if kind == "string" else v.sql

    whens = " ".join(
        f"WHEN {c.boolean(parts[i]).sql} THEN {value(parts[i + 1])}" for i in range(0, len(parts) - 1, 2)
    )
    return E(f"(CASE {whens} ELSE {value(parts[-1])} END)", kind)


def _coalesce(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "coalesce", 2, 64)
    kind = next((p.type for p in parts if p.const is not None), parts[0].type)
    if kind == "string":
        # KQL coalesce skips empty strings too ("the first non-null, non-empty" value).
        return E("coalesce(" + ", ".join(f"nullif({c.tostring(p).sql}, '')" for p in parts) + ", '')", kind)
    return E("coalesce(" + ", ".join(p.sql for p in parts) + ")", kind)


def _isnull(negate: bool) -> Fn:
    def build(c: ScalarCompiler, items: list[Any]) -> E:
        (value,) = args(c, items, "isnotnull" if negate else "isnull", 1)
        if value.type == "string":
            return E("FALSE" if not negate else "TRUE", "bool")  # a KQL string is never null
        return E(f"({value.sql} IS {'NOT ' if negate else ''}NULL)", "bool")

    return build


def _not(c: ScalarCompiler, items: list[Any]) -> E:
    (value,) = args(c, items, "not", 1)
    return E(f"(NOT {c.boolean(value).sql})", "bool")


def _round(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "round", 1, 2)
    digits = parts[1].sql if len(parts) == 2 else "0"
    return E(f"round({c.number(parts[0]).sql}, CAST({digits} AS INTEGER))", "real")


def _math(name: str, fn: str, ktype: str = "real", n: int = 1) -> Fn:
    def build(c: ScalarCompiler, items: list[Any]) -> E:
        parts = [c.number(p).sql for p in args(c, items, name, n)]
        return E(f"{fn}({', '.join(parts)})", ktype)

    return build


def _abs(c: ScalarCompiler, items: list[Any]) -> E:
    (value,) = args(c, items, "abs", 1)
    return E(f"abs({c.number(value).sql})", value.type if value.type != "dynamic" else "real")


def _extreme(name: str, fn: str) -> Fn:
    def build(c: ScalarCompiler, items: list[Any]) -> E:
        parts = args(c, items, name, 1, 64)
        return E(f"{fn}({', '.join(p.sql for p in parts)})", parts[0].type)

    return build


def _bits(name: str, template: str, n: int = 2) -> Fn:
    return simple(name, template, "long", n)


def _toscalar(c: ScalarCompiler, items: list[Any]) -> E:
    if len(items) != 1:
        raise KqlSemanticError("Function 'toscalar' expects 1 argument")
    rel = c.scope.tabular_or_none(items[0])
    if rel is None:
        return c.compile(items[0])
    if not rel.cols:
        raise KqlSemanticError("toscalar(): the tabular expression has no columns")
    first = rel.cols[0]
    known, value = c.scope.scalar_value(rel)
    if known:  # evaluated once, as KQL does: the value is a constant for the rest of the query
        return lit(_from_storage(value, first.type), first.type)
    return E(f"(SELECT {first.ident} FROM ({rel.sql}) AS _s LIMIT 1)", first.type)


def _from_storage(value: Any, kind: str) -> Any:
    if kind == "dynamic" and isinstance(value, str):
        import json

        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _column_ifexists(c: ScalarCompiler, items: list[Any]) -> E:
    if len(items) != 2 or not isinstance(items[0], ast.Lit):
        raise KqlSemanticError("Function 'column_ifexists' expects a column name and a default value")
    col = c.columns.get(str(items[0].value))
    if col is not None:
        return E(col.ident, col.type)
    return c.compile(items[1])


def _gettype(c: ScalarCompiler, items: list[Any]) -> E:
    (value,) = args(c, items, "gettype", 1)
    names = {
        "bool": "bool",
        "datetime": "datetime",
        "timespan": "timespan",
        "long": "long",
        "int": "int",
        "real": "real",
        "string": "string",
    }
    if value.type == "dynamic":
        sql = (
            f"(CASE json_type({value.sql}) WHEN 'ARRAY' THEN 'array' WHEN 'OBJECT' THEN 'dictionary' "
            "WHEN 'VARCHAR' THEN 'string' WHEN 'BIGINT' THEN 'long' WHEN 'UBIGINT' THEN 'long' "
            "WHEN 'DOUBLE' THEN 'real' WHEN 'BOOLEAN' THEN 'bool' ELSE 'null' END)"
        )
        return E(sql, "string")
    return lit(names.get(value.type, value.type), "string")


def _udf_text(name: str, udf: str, ktype: str, lo: int, hi: int | None = None) -> Fn:
    """A Python UDF over string arguments (:mod:`.udfs`); missing optional ones are NULL."""
    hi = lo if hi is None else hi

    def build(c: ScalarCompiler, items: list[Any]) -> E:
        parts = [c.tostring(p).sql for p in args(c, items, name, lo, hi)]
        parts += ["CAST(NULL AS VARCHAR)"] * (hi - len(parts))
        sql = f"{udf}({', '.join(parts)})"
        return dyn(sql) if ktype == "dynamic" else E(sql, ktype)

    return build


def _make_string(c: ScalarCompiler, items: list[Any]) -> E:
    """``make_string(code points or dynamic arrays of them, ...)``: the characters, joined."""
    parts = []
    for e in args(c, items, "make_string", 1, 64):
        if e.type == "dynamic":
            parts.append(
                f"coalesce(array_to_string(list_transform(TRY_CAST({c.json_value(e)} AS BIGINT[]), "
                "lambda v: chr(CAST(v AS INTEGER))), ''), '')"
            )
        else:
            parts.append(f"coalesce(chr(CAST({e.sql} AS INTEGER)), '')")
    return E(" || ".join(parts), "string")


def _ipv4_in_any_range(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "ipv4_is_in_any_range", 2, 256)
    ranges = ", ".join(c.json_value(p) for p in parts[1:])
    return E(
        f"kql_ipv4_is_in_any_range({c.tostring(parts[0]).sql}, CAST(json_array({ranges}) AS VARCHAR))", "bool"
    )


def _hash(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "hash", 1, 2)
    value = f"CAST(hash({c.tostring(parts[0]).sql}) % 9223372036854775807 AS BIGINT)"
    if len(parts) == 2:
        return E(f"({value} % {parts[1].sql})", "long")
    return E(value, "long")


def _rand(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "rand", 0, 1)
    if parts:
        return E(f"CAST(floor(random() * {parts[0].sql}) AS BIGINT)", "long")
    return E("random()", "real")


def _parse_command_line(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "parse_command_line", 1, 2)
    if len(parts) == 2 and isinstance(parts[1].const, str) and parts[1].const.lower() != "windows":
        raise KqlSemanticError("parse_command_line: the parser must be 'windows'")
    return dyn(f"kql_parse_command_line({c.tostring(parts[0]).sql})")


def _window(name: str, fn: str) -> Fn:
    # Row-order functions of a serialized table (after order by/serialize): DuckDB keeps the input
    # order through OVER () with no ORDER BY.
    def build(c: ScalarCompiler, items: list[Any]) -> E:
        parts = args(c, items, name, 0 if name == "row_number" else 1, 3)
        if name == "row_number":
            start = parts[0].sql if parts else "1"
            return E(f"(row_number() OVER () - 1 + {start})", "long")
        if name == "row_cumsum":
            return E(
                f"sum({parts[0].sql}) OVER (ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)", parts[0].type
            )
        offset = parts[1].sql if len(parts) > 1 else "1"
        default = f", {parts[2].sql}" if len(parts) > 2 else ""
        return E(f"{fn}({parts[0].sql}, {offset}{default}) OVER ()", parts[0].type)

    return build


MISC_FUNCTIONS: dict[str, Fn] = {
    "row_number": _window("row_number", ""),
    "prev": _window("prev", "lag"),
    "next": _window("next", "lead"),
    "row_cumsum": _window("row_cumsum", ""),
    "toint": _to_int("int"),
    "tolong": _to_int("long"),
    "todouble": _to_real,
    "toreal": _to_real,
    "todecimal": _to_real,
    "tobool": _to_bool,
    "toboolean": _to_bool,
    "long": _typed_literal("long"),
    "int": _typed_literal("int"),
    "real": _typed_literal("real"),
    "double": _typed_literal("double"),
    "decimal": _typed_literal("decimal"),
    "bool": _typed_literal("bool"),
    "boolean": _typed_literal("boolean"),
    "timespan": _typed_literal("timespan"),
    "time": _typed_literal("time"),
    "guid": _typed_literal("guid"),
    "string": _typed_literal("string"),
    "toguid": _typed_literal("guid"),
    "iff": _iff,
    "iif": _iff,
    "case": _case,
    "coalesce": _coalesce,
    "isnull": _isnull(False),
    "isnotnull": _isnull(True),
    "not": _not,
    "round": _round,
    "abs": _abs,
    "ceiling": _math("ceiling", "ceiling"),
    "sqrt": _math("sqrt", "sqrt"),
    "exp": _math("exp", "exp"),
    "exp2": simple("exp2", "pow(2, {0})", "real"),
    "log": _math("log", "ln"),
    "log10": _math("log10", "log10"),
    "log2": _math("log2", "log2"),
    "pow": _math("pow", "pow", n=2),
    "sign": _math("sign", "sign"),
    "isnan": _math("isnan", "isnan", "bool"),
    "isinf": _math("isinf", "isinf", "bool"),
    "isfinite": _math("isfinite", "isfinite", "bool"),
    "min_of": _extreme("min_of", "least"),
    "max_of": _extreme("max_of", "greatest"),
    "binary_and": _bits("binary_and", "({0} & {1})"),
    "binary_or": _bits("binary_or", "({0} | {1})"),
    "binary_xor": _bits("binary_xor", "xor({0}, {1})"),
    "binary_not": _bits("binary_not", "(~{0})", 1),
    "binary_shift_left": _bits("binary_shift_left", "({0} << {1})"),
    "binary_shift_right": _bits("binary_shift_right", "({0} >> {1})"),
    "toscalar": _toscalar,
    "materialize": _toscalar,
    "column_ifexists": _column_ifexists,
    "gettype": _gettype,
    "hash": _hash,
    "hash_sha256": text_fn("hash_sha256", "sha256({0})"),
    "hash_sha1": text_fn("hash_sha1", "sha1({0})"),
    "hash_md5": text_fn("hash_md5", "md5({0})"),
    "rand": _rand,
    "new_guid": lambda c, a: E("CAST(gen_random_uuid() AS VARCHAR)", "string"),
    "tohex": simple("tohex", "lower(hex({0}))", "string"),
    "base64_encode_tostring": text_fn("base64_encode_tostring", "to_base64(encode({0}))"),
    "base64_encodestring": text_fn("base64_encodestring", "to_base64(encode({0}))"),
    "base64_decode_tostring": _udf_text("base64_decode_tostring", "kql_base64_decode", "string", 1),
    "base64_decodestring": _udf_text("base64_decodestring", "kql_base64_decode", "string", 1),
    "base64_decode_toarray": _udf_text("base64_decode_toarray", "kql_base64_toarray", "dynamic", 1),
    "base64_decode_toguid": _udf_text("base64_decode_toguid", "kql_base64_toguid", "string", 1),
    "make_string": _make_string,
    "parse_command_line": _parse_command_line,
    "parse_url": _udf_text("parse_url", "kql_parse_url", "dynamic", 1),
    "parseurl": _udf_text("parseurl", "kql_parse_url", "dynamic", 1),
    "parse_urlquery": _udf_text("parse_urlquery", "kql_parse_urlquery", "dynamic", 1),
    "parse_path": _udf_text("parse_path", "kql_parse_path", "dynamic", 1),
    "parse_ipv4": _udf_text("parse_ipv4", "kql_parse_ipv4", "long", 1),
    "parse_ipv4_mask": _udf_text("parse_ipv4_mask", "kql_parse_ipv4_mask", "long", 2),
    "format_ipv4": _udf_text("format_ipv4", "kql_format_ipv4", "string", 1, 2),
    "ipv4_is_private": _udf_text("ipv4_is_private", "kql_ipv4_is_private", "bool", 1),
    "ipv4_is_in_range": _udf_text("ipv4_is_in_range", "kql_ipv4_is_in_range", "bool", 2),
    "ipv4_is_in_any_range": _ipv4_in_any_range,
    "ipv4_is_match": _udf_text("ipv4_is_match", "kql_ipv4_is_match", "bool", 2, 3),
    "ipv4_compare": _udf_text("ipv4_compare", "kql_ipv4_compare", "long", 2, 3),
    "ipv6_is_match": _udf_text("ipv6_is_match", "kql_ipv6_is_match", "bool", 2, 3),
    "geo_info_from_ip_address": _udf_text("geo_info_from_ip_address", "kql_geo_info", "dynamic", 1),
}
