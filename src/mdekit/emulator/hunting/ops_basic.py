"""Row and column operators: where, project (and its -away/-keep/-reorder/-rename forms), extend,
sort, take, top, distinct, count, serialize, sample, getschema."""

from __future__ import annotations

import fnmatch
from dataclasses import fields, is_dataclass
from typing import Any

from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError
from mdekit.emulator.hunting.scalars import ScalarCompiler, Tabular
from mdekit.emulator.hunting.sql import Column, E, Namer, Rel, quote_str, reselect, unique_name

__all__ = ["OPERATORS", "auto_name", "free_names", "named_items"]

#: The ``DataType`` getschema shows for each KQL type.
_CLR = {
    "string": "System.String",
    "datetime": "System.DateTime",
    "long": "System.Int64",
    "int": "System.Int32",
    "bool": "System.SByte",
    "real": "System.Double",
    "dynamic": "System.Object",
    "timespan": "System.TimeSpan",
    "guid": "System.Guid",
}


#: Functions KQL looks through when it names an unnamed column (``tostring(d.a)`` is ``d_a``).
_TRANSPARENT = {
    "tostring",
    "toint",
    "tolong",
    "todouble",
    "toreal",
    "todatetime",
    "tobool",
    "todynamic",
    "parse_json",
    "bin",
    "floor",
    "bin_at",
    "totimespan",
    "toguid",
}


def auto_name(expr: Any) -> str | None:
    """KQL's name for an unnamed expression: a column keeps its name, ``d.a.b`` becomes ``d_a_b``."""
    if isinstance(expr, ast.Col):
        return expr.name
    if isinstance(expr, ast.Member) and isinstance(expr.key, str):
        base = auto_name(expr.obj)
        return f"{base}_{expr.key}" if base else None
    if isinstance(expr, ast.Call) and expr.name in _TRANSPARENT and expr.args:
        return auto_name(expr.args[0])
    return None


def free_names(node: Any) -> set[str]:
    """Every name (``Col``) an expression mentions."""
    out: set[str] = set()
    stack = [node]
    while stack:
        n = stack.pop()
        if isinstance(n, ast.Col):
            out.add(n.name)
        elif isinstance(n, list):
            stack.extend(n)
        elif is_dataclass(n):
            stack.extend(getattr(n, f.name) for f in fields(n))
    return out


def named_items(sc: ScalarCompiler, items: list[ast.Assign], taken: set[str]) -> list[tuple[str, E]]:
    """Compile project/extend items with their output names (``Column1``... for unnamed ones)."""
    out: list[tuple[str, E]] = []
    counter = 0
    for item in items:
        if item.names:
            raise KqlSemanticError("'(a, b) = ...' assignments are only valid in summarize")
        expr = sc.compile(item.expr)
        name = item.name or auto_name(item.expr)
        if name is None:
            counter += 1
            name = unique_name(f"Column{counter}", taken)
        taken.add(name)
        out.append((name, expr))
    return out


def _where(t: Tabular, op: ast.Where, rel: Rel) -> Rel:
    sc = t.scalars(rel)
    pred = sc.boolean(sc.compile(op.pred))
    if " OVER (" in pred.sql:  # prev()/next() of a serialized table: SQL filters after windows
        return Rel(
            f"SELECT * EXCLUDE (__keep) FROM (SELECT *, {pred.sql} AS __keep FROM ({rel.sql}) AS _t) AS _w "
            "WHERE __keep",
            rel.cols,
        )
    return Rel(f"SELECT * FROM ({rel.sql}) AS _t WHERE {pred.sql}", rel.cols)


def _project(t: Tabular, op: ast.Project, rel: Rel) -> Rel:
    named = named_items(t.scalars(rel), op.items, set())
    if len({n for n, _ in named}) != len(named):
        raise KqlSemanticError("'project' operator: a column name is used more than once")
    namer = Namer()
    cols = [namer.column(n, e.type) for n, e in named]
    select = ", ".join(f"{e.sql} AS {c.ident}" for c, (_, e) in zip(cols, named, strict=True))
    return Rel(f"SELECT {select} FROM ({rel.sql}) AS _t", cols)


def _extend(t: Tabular, op: ast.Extend, rel: Rel) -> Rel:
    # Items may use columns defined earlier in the same extend: compile in batches of items that
    # do not refer to each other (one SELECT per batch instead of one per item).
    batch: list[ast.Assign] = []
    defined: set[str] = set()
    for item in op.items:
        name = item.name or auto_name(item.expr)
        if free_names(item.expr) & defined:
            rel = _extend_batch(t, batch, rel)
            batch, defined = [], set()
        batch.append(item)
        if name:
            defined.add(name)
    return _extend_batch(t, batch, rel) if batch else rel


def _extend_batch(t: Tabular, items: list[ast.Assign], rel: Rel) -> Rel:
    named = named_items(t.scalars(rel), items, set(rel.names()))
    new = {n: e for n, e in named}
    namer = Namer()
    parts: list[str] = []
    cols: list[Column] = []
    for c in rel.cols:
        if c.name in new:
            e = new.pop(c.name)
            col = namer.column(c.name, e.type)
            parts.append(f"{e.sql} AS {col.ident}")
        else:
            col = namer.column(c.name, c.type)
            parts.append(f"{c.ident} AS {col.ident}")
        cols.append(col)
    for n, e in new.items():
        col = namer.column(n, e.type)
        parts.append(f"{e.sql} AS {col.ident}")
        cols.append(col)
    return Rel(f"SELECT {', '.join(parts)} FROM ({rel.sql}) AS _t", cols)


def _matching(rel: Rel, pattern: str, what: str) -> list[Column]:
    hits = [c for c in rel.cols if fnmatch.fnmatchcase(c.name, pattern)]
    if not hits and "*" not in pattern:
        raise KqlSemanticError(f"'{what}' operator: Failed to resolve column named '{pattern}'")
    return hits


def _project_away(t: Tabular, op: ast.ProjectAway, rel: Rel) -> Rel:
    drop = {c.name for p in op.patterns for c in _matching(rel, p, "project-away")}
    cols = [c for c in rel.cols if c.name not in drop]
    if not cols:
        raise KqlSemanticError("'project-away' operator: no columns would remain")
    return reselect(rel, cols)


def _project_keep(t: Tabular, op: ast.ProjectKeep, rel: Rel) -> Rel:
    keep = {c.name for p in op.patterns for c in _matching(rel, p, "project-keep")}
    return reselect(rel, [c for c in rel.cols if c.name in keep])


def _project_reorder(t: Tabular, op: ast.ProjectReorder, rel: Rel) -> Rel:
    first: list[Column] = []
    for pattern, direction in op.items:
        hits = [c for c in _matching(rel, pattern, "project-reorder") if c not in first]
        if direction:
            hits.sort(key=lambda c: c.name, reverse=direction == "desc")
        first += hits
    return reselect(rel, first + [c for c in rel.cols if c not in first])


def _project_rename(t: Tabular, op: ast.ProjectRename, rel: Rel) -> Rel:
    mapping = {old: new for new, old in op.pairs}
    for old in mapping:
        if rel.col(old) is None:
            raise KqlSemanticError(f"'project-rename' operator: Failed to resolve column named '{old}'")
    namer = Namer()
    cols = [namer.column(mapping.get(c.name, c.name), c.type) for c in rel.cols]
    select = ", ".join(f"{c.ident} AS {o.ident}" for c, o in zip(rel.cols, cols, strict=True))
    return Rel(f"SELECT {select} FROM ({rel.sql}) AS _t", cols)


def order_sql(sc: ScalarCompiler, keys: list[ast.SortKey]) -> str:
    """``ORDER BY`` items; KQL puts nulls first when ascending and last when descending."""
    parts = []
    for key in keys:
        expr = sc.compile(key.expr)
        first = (not key.desc) if key.nulls_first is None else key.nulls_first
        parts.append(f"{expr.sql} {'DESC' if key.desc else 'ASC'} NULLS {'FIRST' if first else 'LAST'}")
    return ", ".join(parts)


def _sort(t: Tabular, op: ast.Sort, rel: Rel) -> Rel:
    return Rel(f"SELECT * FROM ({rel.sql}) AS _t ORDER BY {order_sql(t.scalars(rel), op.keys)}", rel.cols)


def count_arg(t: Tabular, node: Any, rel: Rel, what: str) -> int:
    """A non-negative integer constant (take/top/sample counts)."""
    value = t.scalars(rel).compile(node)
    if not isinstance(value.const, int) or isinstance(value.const, bool) or value.const < 0:
        raise KqlSemanticError(f"'{what}' operator expects a non-negative integer constant")
    return int(value.const)


def _take(t: Tabular, op: ast.Take, rel: Rel) -> Rel:
    return Rel(f"SELECT * FROM ({rel.sql}) AS _t LIMIT {count_arg(t, op.count, rel, 'take')}", rel.cols)


def _top(t: Tabular, op: ast.Top, rel: Rel) -> Rel:
    n = count_arg(t, op.count, rel, "top")
    order = order_sql(t.scalars(rel), [op.key])
    return Rel(f"SELECT * FROM ({rel.sql}) AS _t ORDER BY {order} LIMIT {n}", rel.cols)


def _distinct(t: Tabular, op: ast.Distinct, rel: Rel) -> Rel:
    if op.columns is None:
        picked = reselect(rel, rel.cols)
    elif all(i.name is None and isinstance(i.expr, ast.Col) for i in op.columns):
        cols = []
        for item in op.columns:
            col = rel.col(item.expr.name)
            if col is None:
                raise KqlSemanticError(
                    f"'distinct' operator: Failed to resolve column named '{item.expr.name}'"
                )
            cols.append(col)
        picked = reselect(rel, cols)
    else:
        picked = _project(t, ast.Project(op.columns), rel)
    return Rel(picked.sql.replace("SELECT ", "SELECT DISTINCT ", 1), picked.cols)


def _count(t: Tabular, _op: ast.Count, rel: Rel) -> Rel:
    return Rel(f'SELECT count(*) AS "Count" FROM ({rel.sql}) AS _t', [Column("Count", "long", "Count")])


def _serialize(t: Tabular, op: ast.Serialize, rel: Rel) -> Rel:
    return _extend(t, ast.Extend(op.items), rel) if op.items else rel


def _sample(t: Tabular, op: ast.Sample, rel: Rel) -> Rel:
    n = count_arg(t, op.count, rel, "sample")
    return Rel(f"SELECT * FROM ({rel.sql}) AS _t ORDER BY random() LIMIT {n}", rel.cols)


def _sample_distinct(t: Tabular, op: ast.SampleDistinct, rel: Rel) -> Rel:
    n = count_arg(t, op.count, rel, "sample-distinct")
    e = t.scalars(rel).compile(op.expr)
    name = auto_name(op.expr) or "Column1"
    col = Namer().column(name, e.type)
    return Rel(f"SELECT DISTINCT {e.sql} AS {col.ident} FROM ({rel.sql}) AS _t LIMIT {n}", [col])


def _getschema(t: Tabular, _op: ast.GetSchema, rel: Rel) -> Rel:
    rows = [
        f"({quote_str(c.name)}, {i}, {quote_str(_CLR.get(c.type, 'System.Object'))}, {quote_str(c.type)})"
        for i, c in enumerate(rel.cols)
    ]
    cols = [
        Column("ColumnName", "string", "ColumnName"),
        Column("ColumnOrdinal", "int", "ColumnOrdinal"),
        Column("DataType", "string", "DataType"),
        Column("ColumnType", "string", "ColumnType"),
    ]
    names = ", ".join(c.ident for c in cols)
    return Rel(f"SELECT * FROM (VALUES {', '.join(rows)}) AS _s({names})", cols)


def _render(t: Tabular, _op: ast.Render, rel: Rel) -> Rel:
    # `render` adds a visualization hint to the result's extended properties and leaves the data as
    # it is (Kusto docs, render operator); the hunting APIs return Schema and Results only.
    return rel


OPERATORS: dict[type, Any] = {
    ast.Where: _where,
    ast.Project: _project,
    ast.Extend: _extend,
    ast.ProjectAway: _project_away,
    ast.ProjectKeep: _project_keep,
    ast.ProjectReorder: _project_reorder,
    ast.ProjectRename: _project_rename,
    ast.Sort: _sort,
    ast.Take: _take,
    ast.Top: _top,
    ast.Distinct: _distinct,
    ast.Count: _count,
    ast.Serialize: _serialize,
    ast.Sample: _sample,
    ast.SampleDistinct: _sample_distinct,
    ast.GetSchema: _getschema,
    ast.Render: _render,
}
