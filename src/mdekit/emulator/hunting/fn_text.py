"""KQL string functions (``strcat``, ``split``, ``extract``, ``replace_string``, ``parse_*`` ...)."""

from __future__ import annotations

import re
from typing import Any

from mdekit.emulator.hunting.errors import KqlSemanticError
from mdekit.emulator.hunting.fnbase import args, const_text, simple, text_fn
from mdekit.emulator.hunting.scalars import Fn, ScalarCompiler
from mdekit.emulator.hunting.sql import E, quote_str

__all__ = ["TEXT_FUNCTIONS"]


def _strcat(c: ScalarCompiler, items: list[Any]) -> E:
    if not items:
        raise KqlSemanticError("Function 'strcat' expects at least 1 argument")
    parts = [c.tostring(c.compile(a)).sql for a in items]
    return E("concat(" + ", ".join(parts) + ")", "string")


def _strcat_delim(c: ScalarCompiler, items: list[Any]) -> E:
    parts = [c.tostring(p).sql for p in args(c, items, "strcat_delim", 3, 64)]
    return E(f"concat_ws({', '.join(parts)})", "string")


def _split(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "split", 2, 3)
    arr = f"to_json(string_split({c.tostring(parts[0]).sql}, {c.text(parts[1]).sql}))"
    if len(parts) == 3:
        sql = f"json_array(json_extract({arr}, '$[' || ({parts[2].sql}) || ']'))"
        return E(sql, "dynamic", json=(sql, "$"))
    return E(arr, "dynamic", json=(arr, "$"))


def _extract(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "extract", 3, 4)
    text = c.text(parts[2]).sql
    sql = f"nullif(regexp_extract({text}, {c.text(parts[0]).sql}, {parts[1].sql}), '')"
    if len(items) == 4:  # extract(regex, group, text, typeof(long))
        target = typeof_name(items[3])
        return cast_text(E(sql, "string"), target)
    return E(f"coalesce({sql}, '')", "string")


def typeof_name(node: Any) -> str:
    from mdekit.emulator.hunting import ast

    if (
        isinstance(node, ast.Call)
        and node.name == "typeof"
        and node.args
        and isinstance(node.args[0], ast.Col)
    ):
        return node.args[0].name.lower()
    raise KqlSemanticError("Expected typeof(<type>) as the last argument")


def cast_text(value: E, target: str) -> E:
    kinds = {"long": "BIGINT", "int": "INTEGER", "real": "DOUBLE", "double": "DOUBLE", "bool": "BOOLEAN"}
    if target in kinds:
        ktype = {"double": "real"}.get(target, target)
        return E(f"TRY_CAST({value.sql} AS {kinds[target]})", ktype)
    if target == "datetime":
        return E(f"epoch_us(TRY_CAST({value.sql} AS TIMESTAMPTZ))", "datetime")
    return E(f"coalesce({value.sql}, '')", "string")


def _extract_all(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "extract_all", 2, 3)
    pattern = const_text(c, items[0], "regular expression")
    text = c.text(parts[-1]).sql
    groups = re.compile(pattern).groups if _valid(pattern) else 0
    group = 1 if groups >= 1 else 0
    sql = f"to_json(regexp_extract_all({text}, {quote_str(pattern)}, {group}))"
    return E(f"nullif({sql}, '[]')", "dynamic", json=None)


def _valid(pattern: str) -> bool:
    try:
        re.compile(pattern)
    except re.error:
        return False
    return True


def _replace_regex(c: ScalarCompiler, items: list[Any]) -> E:
    text, regex, rewrite = args(c, items, "replace_regex", 3)
    return E(
        f"regexp_replace({c.text(text).sql}, {c.text(regex).sql}, {_rewrite(c, rewrite)}, 'g')", "string"
    )


def _replace_old(c: ScalarCompiler, items: list[Any]) -> E:
    # The deprecated replace(regex, rewrite, text).
    regex, rewrite, text = args(c, items, "replace", 3)
    return E(
        f"regexp_replace({c.text(text).sql}, {c.text(regex).sql}, {_rewrite(c, rewrite)}, 'g')", "string"
    )


def _rewrite(c: ScalarCompiler, rewrite: E) -> str:
    return c.text(rewrite).sql  # KQL's \1 back-references are RE2's too


def _substring(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "substring", 2, 3)
    text = c.tostring(parts[0]).sql
    start = f"greatest(({parts[1].sql}), 0) + 1"
    if len(parts) == 3:
        return E(f"coalesce(substr({text}, {start}, greatest({parts[2].sql}, 0)), '')", "string")
    return E(f"coalesce(substr({text}, {start}), '')", "string")


def _indexof(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "indexof", 2, 5)
    text, lookup = c.tostring(parts[0]).sql, c.tostring(parts[1]).sql
    if len(parts) >= 3:
        start = parts[2].sql
        return E(
            f"(CASE WHEN strpos(substr({text}, {start} + 1), {lookup}) = 0 THEN -1 "
            f"ELSE strpos(substr({text}, {start} + 1), {lookup}) - 1 + {start} END)",
            "long",
        )
    return E(f"(strpos({text}, {lookup}) - 1)", "long")


def _trim(which: str) -> Fn:
    def build(c: ScalarCompiler, items: list[Any]) -> E:
        _regex, text = args(c, items, f"trim{which}", 2)
        pattern = const_text(c, items[0], "regular expression")
        parts = {"": f"^({pattern})+|({pattern})+$", "_start": f"^({pattern})+", "_end": f"({pattern})+$"}
        return E(f"regexp_replace({c.text(text).sql}, {quote_str(parts[which])}, '', 'g')", "string")

    return build


def _countof(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "countof", 2, 3)
    text, search = c.text(parts[0]).sql, c.text(parts[1]).sql
    if len(parts) == 3 and isinstance(parts[2].const, str) and parts[2].const == "regex":
        return E(f"len(regexp_extract_all({text}, {search}))", "long")
    return E(
        f"((length({text}) - length(replace({text}, {search}, ''))) // greatest(length({search}), 1))", "long"
    )


def _isempty(negate: bool) -> Fn:
    def build(c: ScalarCompiler, items: list[Any]) -> E:
        (value,) = args(c, items, "isnotempty" if negate else "isempty", 1)
        sql = c.text(value).sql if value.type == "dynamic" else value.sql
        if value.type in ("string", "dynamic"):
            empty = f"({sql} IS NULL OR {sql} = '')"
        else:
            empty = f"({sql} IS NULL)"
        return E(f"(NOT {empty})" if negate else empty, "bool")

    return build


def _tostring(c: ScalarCompiler, items: list[Any]) -> E:
    (value,) = args(c, items, "tostring", 1)
    return c.tostring(value)


def _strrep(c: ScalarCompiler, items: list[Any]) -> E:
    parts = args(c, items, "strrep", 2, 3)
    text = c.tostring(parts[0]).sql
    if len(parts) == 3:
        delim = c.text(parts[2]).sql
        return E(
            f"(CASE WHEN {parts[1].sql} <= 0 THEN '' "
            f"ELSE repeat({text} || {delim}, {parts[1].sql} - 1) || {text} END)",
            "string",
        )
    return E(f"repeat({text}, greatest({parts[1].sql}, 0))", "string")


def _strcmp(c: ScalarCompiler, items: list[Any]) -> E:
    a, b = (c.text(p).sql for p in args(c, items, "strcmp", 2))
    return E(f"(CASE WHEN {a} < {b} THEN -1 WHEN {a} > {b} THEN 1 ELSE 0 END)", "int")


def _translate(c: ScalarCompiler, items: list[Any]) -> E:
    src, dst, text = (c.text(p).sql for p in args(c, items, "translate", 3))
    return E(f"translate({text}, {src}, {dst})", "string")


TEXT_FUNCTIONS: dict[str, Fn] = {
    "strcat": _strcat,
    "strcat_delim": _strcat_delim,
    "split": _split,
    "extract": _extract,
    "extract_all": _extract_all,
    "replace_string": simple("replace_string", "replace({0}, {1}, {2})", "string", 3, text=True),
    "replace_regex": _replace_regex,
    "replace": _replace_old,
    "substring": _substring,
    "indexof": _indexof,
    "indexof_regex": simple(
        "indexof_regex", "(coalesce(regexp_instr({0}, {1}), 0) - 1)", "long", 2, text=True
    ),
    "trim": _trim(""),
    "trim_start": _trim("_start"),
    "trim_end": _trim("_end"),
    "countof": _countof,
    "tolower": simple("tolower", "lower({0})", "string", text=True),
    "toupper": simple("toupper", "upper({0})", "string", text=True),
    "strlen": simple("strlen", "length({0})", "long", text=True),
    "string_size": simple("string_size", "strlen({0})", "long", text=True),
    "reverse": simple("reverse", "reverse({0})", "string", text=True),
    "strrep": _strrep,
    "strcmp": _strcmp,
    "translate": _translate,
    "isempty": _isempty(False),
    "isnotempty": _isempty(True),
    "notempty": _isempty(True),
    "tostring": _tostring,
    "url_decode": text_fn("url_decode", "url_decode({0})"),
    "url_encode": text_fn("url_encode", "url_encode({0})"),
    "url_encode_component": text_fn("url_encode_component", "url_encode({0})"),
    "isascii": text_fn("isascii", "regexp_matches({0}, '^[\\x00-\\x7F]*$')", "bool"),
    "has_any_index": text_fn("has_any_index", "kql_has_any_index({0}, {1})", "long", 2),
}
