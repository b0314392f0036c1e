"""KQL dynamic (JSON) functions: ``parse_json``, arrays, property bags, sets."""

from __future__ import annotations

from collections.abc import Callable
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
    if len(items) not in (2, 3):
        raise KqlSemanticError(f"Function 'extractjson' expects 2-3 argument(s), got {len(items)}")
    parts = args(c, items[:2], "extractjson", 2)
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
    if (len(items) == 1 and isinstance(items[0], ast.Star)) or not items:
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


def _arrays(c: ScalarCompiler, items: list[Any], name: str, lo: int, hi: int) -> list[str]:
    """The arguments as DuckDB lists of JSON elements."""
    return [f"coalesce(json_extract({_array(c, p)}, '$[*]'), [])" for p in args(c, items, name, lo, hi)]


def _list_fn(name: str, body: Callable[[list[str]], str], lo: int = 1, hi: int = 64) -> Fn:
    def build(c: ScalarCompiler, items: list[Any]) -> E:
        return dyn(f"CAST(to_json({body(_arrays(c, items, name, lo, hi))}) AS VARCHAR)")

    return build


def _array_slice(c: ScalarCompiler, items: list[Any]) -> E:
    arr, start, end = args(c, items, "array_slice", 3)
    lst = f"coalesce(json_extract({_array(c, arr)}, '$[*]'), [])"
    lo = f"(CASE WHEN {start.sql} < 0 THEN len({lst}) + {start.sql} + 1 ELSE {start.sql} + 1 END)"
    hi = f"(CASE WHEN {end.sql} < 0 THEN len({lst}) + {end.sql} + 1 ELSE {end.sql} + 1 END)"
    return dyn(f"CAST(to_json(list_slice({lst}, {lo}, {hi})) AS VARCHAR)")


def _bag_merge(c: ScalarCompiler, items: list[Any]) -> E:
    bags = [_array(c, p) for p in args(c, items, "bag_merge", 2, 64)]
    sql = bags[-1]
    for bag in reversed(bags[:-1]):  # the first bag wins on duplicate keys
        sql = f"json_merge_patch({sql}, {bag})"
    return dyn(sql)


def _strcat_array(c: ScalarCompiler, items: list[Any]) -> E:
    arr, delim = args(c, items, "strcat_array", 2)
    values = f"coalesce(json_extract_string({_array(c, arr)}, '$[*]'), [])"
    return E(f"coalesce(array_to_string({values}, {c.text(delim).sql}), '')", "string")


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


def _range(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "range", 2, 3)
    step = parts[2].sql if len(parts) == 3 else "1"
    return dyn(f"to_json(range({parts[0].sql}, ({parts[1].sql}) + 1, {step}))")


def _parse_csv(c: ScalarCompiler, items: list[Any]) -> E:
    (text,) = args(c, items, "parse_csv", 1)
    return dyn(f"to_json(string_split({c.text(text).sql}, ','))")  # quoted fields are not unquoted


def _intersect(ls: list[str]) -> str:
    out = f"list_distinct({ls[0]})"
    for other in ls[1:]:
        out = f"list_intersect({out}, {other})"
    return out


def _difference(ls: list[str]) -> str:
    rest = "flatten([" + ", ".join(ls[1:]) + "])"
    return f"list_filter(list_distinct({ls[0]}), lambda x: NOT list_contains({rest}, x))"


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
    "array_concat": _list_fn("array_concat", lambda ls: "flatten([" + ", ".join(ls) + "])"),
    "array_slice": _array_slice,
    "array_sort_asc": _list_fn("array_sort_asc", lambda ls: f"list_sort({ls[0]})", 1, 1),
    "array_sort_desc": _list_fn("array_sort_desc", lambda ls: f"list_reverse_sort({ls[0]})", 1, 1),
    "array_reverse": _list_fn("array_reverse", lambda ls: f"list_reverse({ls[0]})", 1, 1),
    "set_union": _list_fn("set_union", lambda ls: "list_distinct(flatten([" + ", ".join(ls) + "]))"),
    "set_intersect": _list_fn("set_intersect", _intersect, 2),
    "set_difference": _list_fn("set_difference", _difference, 2),
    "bag_merge": _bag_merge,
    "strcat_array": _strcat_array,
    "range": _range,
    "parse_csv": _parse_csv,
}
