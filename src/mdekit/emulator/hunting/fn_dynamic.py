"""KQL dynamic (JSON) functions: ``parse_json``, arrays, property bags, sets."""

from __future__ import annotations

from typing import Any

from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError
from mdekit.emulator.hunting.fnbase import args
from mdekit.emulator.hunting.scalars import Fn, ScalarCompiler
from mdekit.emulator.hunting.sql import E, quote_str

__all__ = ["DYNAMIC_FUNCTIONS", "dyn"]


def dyn(sql: str) -> E:
    """A dynamic expression whose member accesses start from *sql*."""
    return E(sql, "dynamic", json=(sql, "$"))


def _parse_json(c: ScalarCompiler, items: list[Any]) -> E:
    (value,) = args(c, items, "parse_json", 1)
    if value.type == "dynamic":
        return value
    text = c.text(value).sql
    return dyn(f"(CASE WHEN json_valid({text}) THEN {text} ELSE to_json({text}) END)")


def _extractjson(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "extractjson", 2, 3)
    body = c.text(parts[1]).sql
    value = E(f"TRY(json_extract_string({body}, {c.text(parts[0]).sql}))", "string")
    if len(items) == 3:  # extractjson(path, text, typeof(long))
        from mdekit.emulator.hunting.fn_text import cast_text, typeof_name

        return cast_text(value, typeof_name(items[2]))
    return E(f"coalesce({value.sql}, '')", "string")


def _array_length(c: ScalarCompiler, items: list[Any]) -> E:
    (value,) = args(c, items, "array_length", 1)
    base = _array(c, value)
    return E(f"(CASE WHEN json_type({base}) = 'ARRAY' THEN json_array_length({base}) END)", "long")


def _array(c: ScalarCompiler, value: E) -> str:
    """SQL of *value* as JSON text (strings are parsed; invalid JSON is null)."""
    if value.type == "dynamic":
        base, path = value.json or (value.sql, "$")
        return base if path == "$" else f"json_extract({base}, {quote_str(path)})"
    text = c.text(value).sql
    return f"(CASE WHEN json_valid({text}) THEN {text} END)"


def _pack_array(c: ScalarCompiler, items: list[Any]) -> E:
    compiled = args(c, items, "pack_array", 0, 999)
    if all(p.is_const for p in compiled):  # a constant list: usable where KQL wants one (has_any, in)
        from mdekit.emulator.hunting.sql import lit

        return lit([p.const for p in compiled], "dynamic")
    parts = [c.json_value(p) for p in compiled]
    return dyn(f"json_array({', '.join(parts)})")


def _pack(c: ScalarCompiler, items: list[Any]) -> E:
    if len(items) == 1 and isinstance(items[0], ast.Star) or not items:
        return _pack_all(c, [])
    if len(items) % 2:
        raise KqlSemanticError("Function 'bag_pack' expects key/value pairs")
    parts = args(c, items, "bag_pack", 0, 999)
    pairs = []
    for i in range(0, len(parts), 2):
        pairs += [c.text(parts[i]).sql, c.json_value(parts[i + 1])]
    return dyn(f"json_object({', '.join(pairs)})")


def _pack_all(c: ScalarCompiler, items: list[Any]) -> E:
    pairs = []
    for col in c.rel.cols:
        pairs += [quote_str(col.name), c.json_value(E(col.ident, col.type))]
    return dyn(f"json_object({', '.join(pairs)})")


def _bag_keys(c: ScalarCompiler, items: list[Any]) -> E:
    (value,) = args(c, items, "bag_keys", 1)
    return dyn(f"to_json(json_keys({_array(c, value)}))")


def _udf(name: str, udf: str, n: int, hi: int | None = None) -> Fn:
    """A dynamic function computed by a Python UDF (:mod:`.udfs`) over its arguments as one JSON array."""

    def build(c: ScalarCompiler, items: list[Any]) -> E:
        parts = args(c, items, name, n, hi)
        values = ", ".join(f"CAST({_array(c, p)} AS JSON)" if p.type == "dynamic" else c.json_value(p) for p in parts)
        return dyn(f"{udf}(CAST(json_array({values}) AS VARCHAR))")

    return build


def _set_has_element(c: ScalarCompiler, items: list[Any]) -> E:
    arr, value = args(c, items, "set_has_element", 2)
    return E(f"list_contains(json_extract_string({_array(c, arr)}, '$[*]'), {c.tostring(value).sql})", "bool")


def _array_index_of(c: ScalarCompiler, items: list[Any]) -> E:
    arr, value = args(c, items, "array_index_of", 2)
    pos = f"list_position(json_extract_string({_array(c, arr)}, '$[*]'), {c.tostring(value).sql})"
    return E(f"coalesce({pos} - 1, -1)", "long")


def _todynamic_typed(kind: str) -> Fn:
    def build(c: ScalarCompiler, items: list[Any]) -> E:
        (value,) = args(c, items, kind, 1)
        return value if value.type == "dynamic" else _parse_json(c, items)

    return build


def _zip(c: ScalarCompiler, items: list[Any]) -> E:
    return _udf("zip", "kql_zip", 2, 16)(c, items)


def _range(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "range", 2, 3)
    step = parts[2].sql if len(parts) == 3 else "1"
    return dyn(f"to_json(range({parts[0].sql}, ({parts[1].sql}) + 1, {step}))")


def _parse_csv(c: ScalarCompiler, items: list[Any]) -> E:
    (text,) = args(c, items, "parse_csv", 1)
    return dyn(f"to_json(string_split({c.text(text).sql}, ','))")  # quoted fields are not unquoted


DYNAMIC_FUNCTIONS: dict[str, Fn] = {
    "parse_json": _parse_json,
    "todynamic": _parse_json,
    "parsejson": _parse_json,
    "toobject": _parse_json,
    "extractjson": _extractjson,
    "extract_json": _extractjson,
    "array_length": _array_length,
    "pack_array": _pack_array,
    "pack": _pack,
    "bag_pack": _pack,
    "pack_dictionary": _pack,
    "pack_all": _pack_all,
    "bag_keys": _bag_keys,
    "set_has_element": _set_has_element,
    "array_index_of": _array_index_of,
    "array_concat": _udf("array_concat", "kql_array_concat", 1, 64),
    "array_slice": _udf("array_slice", "kql_array_slice", 3),
    "array_sort_asc": _udf("array_sort_asc", "kql_array_sort_asc", 1),
    "array_sort_desc": _udf("array_sort_desc", "kql_array_sort_desc", 1),
    "array_reverse": _udf("array_reverse", "kql_array_reverse", 1),
    "set_union": _udf("set_union", "kql_set_union", 1, 64),
    "set_intersect": _udf("set_intersect", "kql_set_intersect", 1, 64),
    "set_difference": _udf("set_difference", "kql_set_difference", 1, 64),
    "bag_merge": _udf("bag_merge", "kql_bag_merge", 1, 64),
    "bag_remove_keys": _udf("bag_remove_keys", "kql_bag_remove_keys", 2),
    "zip": _zip,
    "range": _range,
    "parse_csv": _parse_csv,
}
