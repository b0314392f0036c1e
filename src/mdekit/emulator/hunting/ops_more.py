"""Reshaping operators: mv-expand, parse / parse-where, evaluate (bag_unpack, pivot), make-series,
top-nested."""

from __future__ import annotations

import re
from typing import Any

from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError, KqlUnsupportedError
from mdekit.emulator.hunting.ops_basic import auto_name, count_arg, free_names
from mdekit.emulator.hunting.scalars import AGGREGATES, ScalarCompiler, Tabular
from mdekit.emulator.hunting.sql import Column, E, Namer, Rel, iso_datetime, quote_ident, quote_str
from mdekit.emulator.hunting.summarize import Aggregates, compile_summarize, default_name

__all__ = ["MORE_OPERATORS"]

#: How ``to typeof(T)`` and typed parse columns read a JSON element / captured text.
_JSON_AS = {
    "string": "json_extract_string({0}, '$')",
    "long": "TRY_CAST(json_extract_string({0}, '$') AS BIGINT)",
    "int": "TRY_CAST(json_extract_string({0}, '$') AS INTEGER)",
    "real": "TRY_CAST(json_extract_string({0}, '$') AS DOUBLE)",
    "double": "TRY_CAST(json_extract_string({0}, '$') AS DOUBLE)",
    "bool": "TRY_CAST(json_extract_string({0}, '$') AS BOOLEAN)",
    "datetime": "epoch_us(TRY_CAST(json_extract_string({0}, '$') AS TIMESTAMPTZ))",
    "dynamic": "{0}",
}
_TEXT_AS = {
    "string": "{0}",
    "long": "TRY_CAST({0} AS BIGINT)",
    "int": "TRY_CAST({0} AS INTEGER)",
    "real": "TRY_CAST({0} AS DOUBLE)",
    "double": "TRY_CAST({0} AS DOUBLE)",
    "bool": "TRY_CAST({0} AS BOOLEAN)",
    "datetime": "epoch_us(TRY_CAST({0} AS TIMESTAMPTZ))",
    "date": "epoch_us(TRY_CAST({0} AS TIMESTAMPTZ))",
    "timespan": "kql_totimespan({0})",
    "dynamic": "(CASE WHEN json_valid({0}) THEN {0} ELSE to_json({0}) END)",
    "guid": "{0}",
}
_CAPTURE = {
    "long": r"(\-?\d+)",
    "int": r"(\-?\d+)",
    "real": r"(\-?\d+(?:\.\d+)?(?:[eE][+\-]?\d+)?)",
    "double": r"(\-?\d+(?:\.\d+)?(?:[eE][+\-]?\d+)?)",
    "bool": r"(true|false|True|False|TRUE|FALSE)",
}


def _kql_type(name: str) -> str:
    return {"double": "real", "date": "datetime", "boolean": "bool", "decimal": "real"}.get(name, name)


# --- mv-expand -------------------------------------------------------------------------------------
def _elements(sc: ScalarCompiler, value: E) -> str:
    """A DuckDB list of JSON elements of an array (or single-entry bags of a property bag)."""
    if value.type == "dynamic":
        base, path = value.json or (value.sql, "$")
        j = base if path == "$" else f"json_extract({base}, {quote_str(path)})"
    elif value.type == "string":
        j = f"(CASE WHEN json_valid({value.sql}) THEN {value.sql} ELSE to_json({value.sql}) END)"
    else:
        return f"[CAST(to_json({value.sql}) AS JSON)]"
    return (
        f"(CASE WHEN {j} IS NULL OR json_type({j}) = 'NULL' THEN [CAST(NULL AS JSON)] "
        f"WHEN json_type({j}) = 'ARRAY' THEN json_extract({j}, '$[*]') "
        f"WHEN json_type({j}) = 'OBJECT' THEN list_transform(json_keys({j}), "
        f"lambda k: CAST(json_object(k, json_extract({j}, '$.\"' || k || '\"')) AS JSON)) "
        f"ELSE [CAST({j} AS JSON)] END)"
    )


def _mv_expand(t: Tabular, op: ast.MvExpand, rel: Rel) -> Rel:
    unknown = set(op.params) - {"kind", "with_itemindex", "bagexpansion"}
    if unknown:
        raise KqlUnsupportedError("mv-expand parameter", sorted(unknown)[0])
    sc = t.scalars(rel)
    limit = count_arg(t, op.limit, rel, "mv-expand") if op.limit is not None else None
    lists: list[tuple[str, str, str]] = []  # (output name, KQL type, list SQL)
    for item in op.items:
        name = item.name or auto_name(item.expr) or _first_column(item.expr) or "Column1"
        elements = _elements(sc, sc.compile(item.expr))
        if limit is not None:
            elements = f"list_slice({elements}, 1, {limit})"
        lists.append((name, _kql_type(item.to_type or "dynamic"), elements))
    index = op.params.get("with_itemindex")
    namer = Namer()
    replaced = {n for n, _, _ in lists}
    items: list[str] = []
    cols: list[Column] = []
    for c in rel.cols:
        if c.name in replaced:
            continue
        col = namer.column(c.name, c.type)
        items.append(f"{c.ident} AS {col.ident}")
        cols.append(col)
    if index:
        longest = (
            "greatest(" + ", ".join(f"len({sql})" for _, _, sql in lists) + ")"
            if len(lists) > 1
            else f"len({lists[0][2]})"
        )
        col = namer.column(str(index), "long")
        items.append(f"unnest(range({longest})) AS {col.ident}")
        cols.append(col)
    order = [c.name for c in rel.cols]
    for name, ktype, sql in lists:
        col = namer.column(name, ktype)
        items.append(f"{_JSON_AS.get(ktype, '{0}').format(f'unnest({sql})')} AS {col.ident}")
        cols.append(col)
    inner = Rel(f"SELECT {', '.join(items)} FROM ({rel.sql}) AS _t", cols)
    # KQL keeps an expanded column where it was: put the columns back in their input order.
    ordered = sorted(cols, key=lambda c: order.index(c.name) if c.name in order else len(order))
    if ordered == cols:
        return inner
    renamed = Namer()
    out = [renamed.column(c.name, c.type) for c in ordered]
    select = ", ".join(f"{c.ident} AS {o.ident}" for c, o in zip(ordered, out, strict=True))
    return Rel(f"SELECT {select} FROM ({inner.sql}) AS _m", out)


def _first_column(expr: Any) -> str | None:
    # mv-expand parse_json(IPAddresses) replaces the column it reads, as KQL names it after it.
    while isinstance(expr, ast.Call) and expr.args:
        expr = expr.args[0]
    return auto_name(expr)


# --- parse -------------------------------------------------------------------------------------
def _parse_regex(op: ast.Parse) -> tuple[str, list[tuple[str, str]]]:
    kind = str(op.params.get("kind", "simple")).lower()
    if kind not in ("simple", "regex", "relaxed"):
        raise KqlUnsupportedError("parse kind", kind)
    flags = str(op.params.get("flags", ""))
    parts: list[str] = []
    cols: list[tuple[str, str]] = []
    last = len(op.items) - 1
    for i, item in enumerate(op.items):
        if item.text is not None:
            parts.append(item.text if kind == "regex" else re.escape(item.text))
        elif item.star:
            parts.append(".*" if i == last else ".*?")
        else:
            ktype = _kql_type(item.type.lower())
            capture = _CAPTURE.get(ktype, "(.*)" if i == last else "(.*?)")
            parts.append(capture)
            cols.append((str(item.name), ktype))
    prefix = f"(?{flags})" if flags else ""
    return prefix + "^" + "".join(parts) + ("$" if kind != "regex" else ""), cols


def _parse(t: Tabular, op: ast.Parse, rel: Rel) -> Rel:
    sc = t.scalars(rel)
    text = sc.tostring(sc.compile(op.expr)).sql
    pattern, wanted = _parse_regex(op)
    rx = quote_str(pattern)
    namer = Namer()
    new = {n for n, _ in wanted}
    items = []
    cols = []
    for c in rel.cols:
        if c.name not in new:
            col = namer.column(c.name, c.type)
            items.append(f"{c.ident} AS {col.ident}")
            cols.append(col)
    for i, (name, ktype) in enumerate(wanted, start=1):
        capture = f"(CASE WHEN regexp_matches({text}, {rx}) THEN regexp_extract({text}, {rx}, {i}) END)"
        value = _TEXT_AS.get(ktype, "{0}").format(capture)
        if ktype == "string":
            value = f"coalesce({value}, '')"
        col = namer.column(name, ktype)
        items.append(f"{value} AS {col.ident}")
        cols.append(col)
    where = f" WHERE regexp_matches({text}, {rx})" if op.where else ""
    return Rel(f"SELECT {', '.join(items)} FROM ({rel.sql}) AS _t{where}", cols)


# --- evaluate ----------------------------------------------------------------------------------
def _evaluate(t: Tabular, op: ast.Evaluate, rel: Rel) -> Rel:
    name = op.name.lower()
    if name == "bag_unpack":
        return _bag_unpack(t, op, rel)
    if name == "pivot":
        return _pivot(t, op, rel)
    raise KqlUnsupportedError("evaluate plugin", op.name)


def _bag_unpack(t: Tabular, op: ast.Evaluate, rel: Rel) -> Rel:
    if not op.args or not isinstance(op.args[0], ast.Col):
        raise KqlSemanticError("bag_unpack() expects the name of a dynamic column")
    source = rel.col(op.args[0].name)
    if source is None:
        raise KqlSemanticError(f"bag_unpack(): Failed to resolve column named '{op.args[0].name}'")
    prefix = ""
    if len(op.args) > 1 and isinstance(op.args[1], ast.Lit) and isinstance(op.args[1].value, str):
        prefix = op.args[1].value
    bag = (
        source.ident
        if source.type == "dynamic"
        else f"(CASE WHEN json_valid({source.ident}) THEN {source.ident} END)"
    )
    # The output columns depend on the data: read the property names first (as the service does).
    keys = sorted(
        {
            str(r[0])
            for r in t.probe(
                f"SELECT DISTINCT unnest(json_keys({bag})) FROM ({rel.sql}) AS _t "
                f"WHERE json_type({bag}) = 'OBJECT' LIMIT 1000"
            )
        }
    )
    namer = Namer()
    items, cols = [], []
    for c in rel.cols:
        if c.name != source.name:
            col = namer.column(c.name, c.type)
            items.append(f"{c.ident} AS {col.ident}")
            cols.append(col)
    taken = {c.name for c in cols}
    for key in keys:
        name = prefix + key
        while name in taken:
            name += "1"
        taken.add(name)
        col = namer.column(name, "dynamic")
        path = '$."' + key.replace('"', '\\"') + '"'
        items.append(f"json_extract({bag}, {quote_str(path)}) AS {col.ident}")
        cols.append(col)
    if not items:
        raise KqlSemanticError("bag_unpack(): no columns would remain")
    return Rel(f"SELECT {', '.join(items)} FROM ({rel.sql}) AS _t", cols)


def _pivot(t: Tabular, op: ast.Evaluate, rel: Rel) -> Rel:
    if not op.args or not isinstance(op.args[0], ast.Col) or rel.col(op.args[0].name) is None:
        raise KqlSemanticError("pivot() expects a column name")
    pivot = rel.col(op.args[0].name)
    assert pivot is not None
    agg = op.args[1] if len(op.args) > 1 else ast.Call("count", [])
    group = [a.name for a in op.args[2:] if isinstance(a, ast.Col)]
    if not group:
        group = [c.name for c in rel.cols if c.name != pivot.name and not _mentions(agg, c.name)]
    values = [r[0] for r in t.probe(f"SELECT DISTINCT {pivot.ident} FROM ({rel.sql}) AS _t LIMIT 500")]
    aggs = []
    for v in sorted(values, key=lambda x: (x is None, str(x))):
        cond = ast.BinOp("==", ast.Col(pivot.name), ast.Lit(v, pivot.type if v is not None else "null"))
        aggs.append(ast.Assign(str(v) if v is not None else "null", _conditional(agg, cond)))
    by = [ast.Assign(None, ast.Col(g)) for g in group]
    return compile_summarize(t, ast.Summarize(aggs, by), rel)


def _mentions(node: Any, name: str) -> bool:
    return name in free_names(node)


def _conditional(agg: Any, cond: Any) -> Any:
    if not isinstance(agg, ast.Call):
        raise KqlSemanticError("pivot(): the aggregation must be a function call")
    if agg.name == "count":
        return ast.Call("countif", [cond])
    if agg.name in ("sum", "avg", "min", "max", "dcount", "make_set", "make_list", "take_any", "any"):
        base = {
            "take_any": "take_anyif",
            "any": "take_anyif",
            "make_set": "make_set_if",
            "make_list": "make_list_if",
        }
        return ast.Call(base.get(agg.name, agg.name + "if"), [*agg.args, cond])
    raise KqlUnsupportedError("pivot aggregation", agg.name)


# --- make-series -------------------------------------------------------------------------------
def _make_series(t: Tabular, op: ast.MakeSeries, rel: Rel) -> Rel:
    sc = t.scalars(rel)
    axis = sc.compile(op.axis)
    step = sc.compile(op.step)
    if not isinstance(step.const, int | float) or step.const <= 0:
        raise KqlSemanticError("make-series: 'step' must be a positive constant")
    start = (
        sc.compile(op.start).sql
        if op.start is not None
        else f"(SELECT min({axis.sql}) FROM ({rel.sql}) AS _t)"
    )
    end = (
        sc.compile(op.end).sql
        if op.end is not None
        else f"(SELECT max({axis.sql}) + 1 FROM ({rel.sql}) AS _t)"
    )
    first = f"({start} - ((({start}) % {step.sql}) + {step.sql}) % {step.sql})" if op.start is None else start
    key_exprs = [
        (i.name or auto_name(i.expr) or f"Column{n + 1}", sc.compile(i.expr)) for n, i in enumerate(op.by)
    ]
    keys = ", ".join(f"{e.sql} AS {quote_ident(f'__k{n}')}" for n, (_, e) in enumerate(key_exprs))
    key_refs = [quote_ident(f"__k{n}") for n in range(len(key_exprs))]
    bin_sql = f"({first} + (({axis.sql}) - {first}) // {step.sql} * {step.sql})"
    names, agg_sql = [], []
    agg_sc = t.scalars(rel, _SeriesAggs(t, rel))
    for n, (assign, default) in enumerate(op.aggs):
        e = agg_sc.compile(assign.expr)
        name = assign.name
        if name is None and isinstance(assign.expr, ast.Call) and assign.expr.name in AGGREGATES:
            name = default_name(assign.expr)
        dflt = sc.compile(default).sql if default is not None else "0"
        names.append((name or f"Column{n + 1}", e.type, dflt))
        agg_sql.append(f"{e.sql} AS {quote_ident(f'__a{n}')}")
    group = ", ".join([*key_refs, "__b"])
    grouped = (
        f"SELECT {keys + ', ' if keys else ''}{bin_sql} AS __b, {', '.join(agg_sql)} FROM ({rel.sql}) AS _t "
        f"WHERE {axis.sql} >= {first} AND {axis.sql} < {end} GROUP BY {group}"
    )
    groups = f"SELECT DISTINCT {', '.join(key_refs)} FROM g" if key_refs else "SELECT 1 AS __one"
    bins = f"SELECT unnest(range({first}, {end}, {step.sql})) AS __b"
    join_on = " AND ".join([f"g.{k} IS NOT DISTINCT FROM k.{k}" for k in key_refs] + ["g.__b = b.__b"])
    namer = Namer()
    cols: list[Column] = []
    select: list[str] = []
    for (name, e), ref in zip(key_exprs, key_refs, strict=True):
        col = namer.column(name, e.type)
        select.append(f"k.{ref} AS {col.ident}")
        cols.append(col)
    for n, (name, _ktype, dflt) in enumerate(names):
        col = namer.column(name, "dynamic")
        select.append(
            f"to_json(list(coalesce(g.{quote_ident(f'__a{n}')}, {dflt}) ORDER BY b.__b)) AS {col.ident}"
        )
        cols.append(col)
    axis_name = auto_name(op.axis) or "Column"
    col = namer.column(axis_name, "dynamic")
    select.append(
        f"to_json(list({iso_datetime('b.__b')} ORDER BY b.__b)) AS {col.ident}"
        if axis.type == "datetime"
        else f"to_json(list(b.__b ORDER BY b.__b)) AS {col.ident}"
    )
    cols.append(col)
    group_by = f" GROUP BY {', '.join('k.' + r for r in key_refs)}" if key_refs else ""
    sql = (
        f"WITH g AS ({grouped}), k AS ({groups}), b AS ({bins}) "
        f"SELECT {', '.join(select)} FROM k CROSS JOIN b LEFT JOIN g ON {join_on}{group_by}"
    )
    return Rel(f"SELECT * FROM ({sql}) AS _ms", cols)


class _SeriesAggs:
    """Plain aggregates for make-series (single-column ones only)."""

    def __init__(self, t: Tabular, rel: Rel) -> None:
        self.inner = Aggregates(t, rel, [])

    def __call__(self, call: ast.Call) -> E:
        e = self.inner(call)
        if self.inner.pending is not None:
            raise KqlUnsupportedError("make-series aggregation", call.name)
        return e


# --- top-nested --------------------------------------------------------------------------------
def _top_nested(t: Tabular, op: ast.TopNested, rel: Rel) -> Rel:
    sc = t.scalars(rel)
    keys: list[tuple[str, E]] = []
    for level in op.levels:
        if level.others is not None:
            raise KqlUnsupportedError("top-nested option", "with others")
        keys.append(
            (level.of.name or auto_name(level.of.expr) or f"Column{len(keys) + 1}", sc.compile(level.of.expr))
        )
    base = ", ".join(f"{e.sql} AS {quote_ident(f'__k{i}')}" for i, (_, e) in enumerate(keys))
    src = f"SELECT *, {base} FROM ({rel.sql}) AS _t"
    levels_sql = []
    out: list[tuple[str, str, str]] = []
    for i, level in enumerate(op.levels):
        agg_sc = t.scalars(rel, _SeriesAggs(t, rel))
        agg = agg_sc.compile(level.by.expr)
        refs = [quote_ident(f"__k{j}") for j in range(i + 1)]
        parent = refs[:-1]
        n = count_arg(t, level.count, rel, "top-nested") if level.count is not None else None
        part = f"PARTITION BY {', '.join(parent)} " if parent else ""
        direction = "DESC" if level.desc else "ASC"
        qualify = (
            f" QUALIFY row_number() OVER ({part}ORDER BY __a{i} {direction}) <= {n}" if n is not None else ""
        )
        levels_sql.append(
            f"l{i} AS (SELECT {', '.join(refs)}, {agg.sql} AS __a{i} FROM ({src}) AS _s "
            f"GROUP BY {', '.join(refs)}{qualify})"
        )
        out.append((keys[i][0], keys[i][1].type, f"l{len(op.levels) - 1}.{refs[-1]}"))
        agg_name = level.by.name or f"aggregated_{keys[i][0]}"
        out.append((agg_name, agg.type, f"l{i}.__a{i}"))
    joins = " ".join(
        f"JOIN l{i} ON "
        + " AND ".join(f"l{i}.__k{j} IS NOT DISTINCT FROM l{len(op.levels) - 1}.__k{j}" for j in range(i + 1))
        for i in range(len(op.levels) - 1)
    )
    namer = Namer()
    cols = [namer.column(n, k) for n, k, _ in out]
    select = ", ".join(f"{sql} AS {c.ident}" for c, (_, _, sql) in zip(cols, out, strict=True))
    last = f"l{len(op.levels) - 1}"
    sql = f"WITH {', '.join(levels_sql)} SELECT {select} FROM {last} {joins}"
    return Rel(f"SELECT * FROM ({sql}) AS _tn", cols)


MORE_OPERATORS: dict[type, Any] = {
    ast.MvExpand: _mv_expand,
    ast.Parse: _parse,
    ast.Evaluate: _evaluate,
    ast.MakeSeries: _make_series,
    ast.TopNested: _top_nested,
}
