"""Tabular sources other than tables: datatable, externaldata, range, print, search, find."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError, KqlUnsupportedError
from mdekit.emulator.hunting.joins import match_tables, union_all
from mdekit.emulator.hunting.ops_basic import named_items
from mdekit.emulator.hunting.scalars import Tabular
from mdekit.emulator.hunting.sql import SQL_TYPE, Column, E, Namer, Rel, lit

__all__ = ["ExternalRows", "datatable", "externaldata", "find", "print_row", "range_rows", "search"]

#: Rows registered for an externaldata URL (the emulator never fetches URLs): url -> rows of text.
ExternalRows = Callable[[str], list[list[str]] | None]
_TYPES = {
    "double": "real",
    "date": "datetime",
    "boolean": "bool",
    "decimal": "real",
    "time": "timespan",
    "int64": "long",
}


def _kql_type(name: str) -> str:
    kind = _TYPES.get(name.lower(), name.lower())
    if kind not in SQL_TYPE:
        raise KqlSemanticError(f"Unknown type '{name}'")
    return kind


def _values_rel(columns: list[tuple[str, str]], rows: list[list[str]]) -> Rel:
    namer = Namer()
    cols = [namer.column(n, _kql_type(k)) for n, k in columns]
    if not rows:
        items = ", ".join(f"CAST(NULL AS {SQL_TYPE[c.type]}) AS {c.ident}" for c in cols)
        return Rel(f"SELECT {items} WHERE FALSE", cols)
    body = ", ".join("(" + ", ".join(row) + ")" for row in rows)
    names = ", ".join(c.ident for c in cols)
    casts = ", ".join(f"CAST({c.ident} AS {SQL_TYPE[c.type]}) AS {c.ident}" for c in cols)
    return Rel(f"SELECT {casts} FROM (VALUES {body}) AS _v({names})", cols)


def datatable(node: ast.DataTable) -> Rel:
    """``datatable(a:string, b:long) [values]``."""
    width = len(node.columns)
    if width == 0 or len(node.values) % width:
        raise KqlSemanticError("datatable: the number of values must be a multiple of the number of columns")
    kinds = [_kql_type(k) for _, k in node.columns]
    rows = []
    for i in range(0, len(node.values), width):
        row = []
        for value, kind in zip(node.values[i : i + width], kinds, strict=True):
            row.append(_cell(value, kind))
        rows.append(row)
    return _values_rel(node.columns, rows)


def _cell(value: ast.Lit, kind: str) -> str:
    if value.value is None:
        return lit(None, kind).sql
    if kind == "dynamic" and value.type != "dynamic":
        return lit(value.value, "dynamic").sql
    if kind == "string" and value.type != "string":
        return lit(
            str(value.value).lower() if isinstance(value.value, bool) else str(value.value), "string"
        ).sql
    return lit(value.value, kind if kind != "dynamic" else "dynamic").sql


def externaldata(node: ast.ExternalData, rows_for: ExternalRows) -> Rel:
    """``externaldata``: the rows registered for its URL, or none (the emulator has no Internet)."""
    kinds = [_kql_type(k) for _, k in node.columns]
    rows: list[list[str]] = []
    for url in node.urls:
        for raw in rows_for(url) or []:
            cells = list(raw) + [""] * (len(kinds) - len(raw))
            rows.append(
                [_text_cell(text, kind) for text, kind in zip(cells[: len(kinds)], kinds, strict=True)]
            )
    if node.props.get("ignorefirstrecord") in (True, "true") and rows:
        rows = rows[1:]
    return _values_rel(node.columns, rows)


def _text_cell(text: str, kind: str) -> str:
    if kind == "string":
        return lit(text, "string").sql
    if text == "":
        return lit(None, kind).sql
    from mdekit.emulator.hunting.parser import datetime_us

    try:
        if kind in ("long", "int"):
            return lit(int(text), kind).sql
        if kind == "real":
            return lit(float(text), kind).sql
        if kind == "bool":
            return lit(text.strip().lower() == "true", kind).sql
        if kind == "datetime":
            return lit(datetime_us(text), kind).sql
    except (ValueError, KqlSemanticError):
        return lit(None, kind).sql
    return lit(text, "string").sql


def range_rows(t: Tabular, node: ast.Range) -> Rel:
    """``range x from a to b step s`` (inclusive of ``b``)."""
    sc = t.scalars(Rel("SELECT 1", []))
    start, stop, step = sc.compile(node.start), sc.compile(node.stop), sc.compile(node.step)
    col = Namer().column(node.name, start.type if start.type != "null" else "long")
    sql = f"SELECT unnest(range({start.sql}, ({stop.sql}) + 1, {step.sql})) AS {col.ident}"
    if start.type == "real":
        sql = (
            f"SELECT ({start.sql}) + i * ({step.sql}) AS {col.ident} FROM "
            f"range(0, CAST(floor((({stop.sql}) - ({start.sql})) / ({step.sql})) AS BIGINT) + 1) AS _r(i)"
        )
    return Rel(sql, [col])


def print_row(t: Tabular, node: ast.Print) -> Rel:
    """``print a = 1, b = "x"``: one row."""
    named = named_items(t.scalars(Rel("SELECT 1", [])), node.items, set())
    namer = Namer()
    cols = [namer.column(n, e.type) for n, e in named]
    select = ", ".join(f"{e.sql} AS {c.ident}" for c, (_, e) in zip(cols, named, strict=True))
    return Rel(f"SELECT {select}", cols)


def _pick_tables(t: Tabular, refs: list[Any], names: list[str]) -> list[tuple[Rel, str]]:
    out: list[tuple[Rel, str]] = []
    for ref in refs:
        if isinstance(ref, ast.TablePattern):
            out += [(t.tabular(ast.Col(n)), n) for n in match_tables(ref.pattern, names)]
        else:
            out.append((t.tabular(ref), ref.name if isinstance(ref, ast.Col) else "T"))
    return out


def search(t: Tabular, node: ast.Search, source: Rel | None, names: list[str]) -> Rel:
    """``search "term"``: rows of any table (or of the input) where any column matches."""
    if str(node.params.get("kind", "")).lower() == "case_sensitive":
        raise KqlUnsupportedError("search kind", "case_sensitive")
    if source is not None:
        parts = [(source, "")]
    else:
        parts = (
            _pick_tables(t, node.tables, names)
            if node.tables
            else [(t.tabular(ast.Col(n)), n) for n in names]
        )
    filtered: list[tuple[Rel, str]] = []
    for rel, label in parts:
        sc = t.scalars(rel)
        pred = _search_pred(sc, node.pred, rel)
        filtered.append((Rel(f"SELECT * FROM ({rel.sql}) AS _t WHERE {pred}", rel.cols), label))
    if source is not None:
        return filtered[0][0]
    return union_all(filtered, "$table")


def _search_pred(sc: Any, pred: Any, rel: Rel) -> str:
    """A search predicate: a bare string literal means "some column has this term"."""
    if isinstance(pred, ast.Lit) and isinstance(pred.value, str):
        op = "contains" if "*" in pred.value else "has"
        term = ast.Lit(pred.value.strip("*"), "string")
        return str(sc.compile(ast.AnyColumnOp(op, term)).sql)
    if isinstance(pred, ast.BoolOp):
        return "(" + f" {pred.op.upper()} ".join(_search_pred(sc, i, rel) for i in pred.items) + ")"
    if isinstance(pred, ast.Call) and pred.name == "not" and len(pred.args) == 1:
        return f"(NOT {_search_pred(sc, pred.args[0], rel)})"
    value = sc.compile(pred)
    if value.type == "string" and isinstance(value.const, str):  # a let-bound term
        return _search_pred(sc, ast.Lit(value.const, "string"), rel)
    if value.type == "string":
        return str(sc.compile(ast.AnyColumnOp("has", pred)).sql)
    return str(sc.boolean(value).sql)


def find(t: Tabular, node: ast.Find, names: list[str]) -> Rel:
    """``find in (tables) where predicate [project cols]``: matching rows with ``source_``.

    Tables that lack a column the predicate uses are skipped, as the service does. Without
    ``project`` the output is ``source_`` and the columns the tables share (``pack_`` is not built).
    """
    source = str(node.params.get("withsource") or node.params.get("with_source") or "source_")
    parts = (
        _pick_tables(t, node.tables, names) if node.tables else [(t.tabular(ast.Col(n)), n) for n in names]
    )
    kept: list[tuple[Rel, str]] = []
    for rel, label in parts:
        try:
            sc = t.scalars(rel)
            pred = sc.boolean(sc.compile(node.pred)).sql
        except KqlSemanticError:
            continue
        kept.append((Rel(f"SELECT * FROM ({rel.sql}) AS _t WHERE {pred}", rel.cols), label))
    if not kept:
        raise KqlSemanticError("find: no table has the columns the predicate uses")
    if node.project:
        wanted = node.project
    else:
        shared = set(kept[0][0].names())
        for rel, _ in kept[1:]:
            shared &= set(rel.names())
        wanted = [c for c in kept[0][0].names() if c in shared]
    narrowed = []
    for rel, label in kept:
        cols = [c for c in rel.cols if c.name in wanted]
        narrowed.append(
            (
                Rel(f"SELECT {', '.join(c.ident for c in cols) or '1 AS _x'} FROM ({rel.sql}) AS _t", cols),
                label,
            )
        )
    return union_all(narrowed, source)


def _unused(e: E, c: Column) -> None:  # pragma: no cover
    del e, c
