"""``join`` (every KQL flavour), ``lookup`` and ``union`` compiled to SQL."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError, KqlUnsupportedError
from mdekit.emulator.hunting.scalars import Tabular
from mdekit.emulator.hunting.sql import SQL_TYPE, Column, Namer, Rel, quote_str, unique_name

__all__ = ["JOIN_KINDS", "compile_join", "compile_lookup", "compile_union"]

#: Supported join flavours (aliases mapped to their canonical names).
JOIN_KINDS = {
    "inner": "inner",
    "innerunique": "innerunique",
    "leftouter": "leftouter",
    "rightouter": "rightouter",
    "fullouter": "fullouter",
    "outer": "fullouter",
    "leftanti": "leftanti",
    "anti": "leftanti",
    "leftantisemi": "leftanti",
    "rightanti": "rightanti",
    "rightantisemi": "rightanti",
    "leftsemi": "leftsemi",
    "semi": "leftsemi",
    "rightsemi": "rightsemi",
}
_PARAMS = {
    "kind",
    "hint.strategy",
    "hint.remote",
    "hint.shufflekey",
    "hint.num_partitions",
    "hint.concurrency",
}


def _on(keys: list[tuple[str, str]], left: Rel, right: Rel, what: str) -> str:
    parts = []
    for lk, rk in keys:
        lc, rc = left.col(lk), right.col(rk)
        if lc is None:
            raise KqlSemanticError(
                f"'{what}' operator: Failed to resolve column named '{lk}' on the left side"
            )
        if rc is None:
            raise KqlSemanticError(
                f"'{what}' operator: Failed to resolve column named '{rk}' on the right side"
            )
        parts.append(f"L.{lc.ident} = R.{rc.ident}")
    return " AND ".join(parts)


def _unique_by_keys(rel: Rel, keys: list[str]) -> str:
    # innerunique (KQL's default) keeps one left row per join key before joining.
    part = ", ".join(c.ident for k in keys if (c := rel.col(k)) is not None)
    return f"SELECT * FROM ({rel.sql}) AS _u QUALIFY row_number() OVER (PARTITION BY {part}) = 1"


def compile_join(t: Tabular, op: ast.Join, left: Rel) -> Rel:
    """Compile ``left | join kind=... (right) on keys``."""
    kind_text = str(op.params.get("kind", "innerunique"))
    kind = JOIN_KINDS.get(kind_text.lower())
    if kind is None:
        raise KqlUnsupportedError("join kind", kind_text)
    unknown = set(op.params) - _PARAMS
    if unknown:
        raise KqlUnsupportedError("join parameter", sorted(unknown)[0])
    if not op.keys:
        raise KqlSemanticError("'join' operator needs 'on' keys")
    right = t.tabular(op.right)
    on = _on(op.keys, left, right, "join")
    lsql = _unique_by_keys(left, [k for k, _ in op.keys]) if kind == "innerunique" else left.sql
    if kind in ("leftanti", "leftsemi", "rightanti", "rightsemi"):
        keep, _other, keep_sql, other_sql = (
            (left, right, lsql, right.sql) if kind.startswith("left") else (right, left, right.sql, lsql)
        )
        exists = "NOT EXISTS" if kind.endswith("anti") else "EXISTS"
        a, b = ("L", "R") if kind.startswith("left") else ("R", "L")
        sql = (
            f"SELECT {keep.select_list(a)} FROM ({keep_sql}) AS {a} "
            f"WHERE {exists} (SELECT 1 FROM ({other_sql}) AS {b} WHERE {on})"
        )
        return Rel(sql, keep.cols)
    join = {"leftouter": "LEFT JOIN", "rightouter": "RIGHT JOIN", "fullouter": "FULL OUTER JOIN"}.get(
        kind, "JOIN"
    )
    return _combine(left, right, lsql, join, on, None)


def _combine(left: Rel, right: Rel, lsql: str, join: str, on: str, drop_right: set[str] | None) -> Rel:
    taken = set(left.names())
    namer = Namer()
    items: list[str] = []
    out: list[Column] = []
    for c in left.cols:
        col = namer.column(c.name, c.type)
        items.append(f"L.{c.ident} AS {col.ident}")
        out.append(col)
    for c in right.cols:
        if drop_right is not None and c.name in drop_right:
            continue
        col = namer.column(unique_name(c.name, taken), c.type)
        taken.add(col.name)
        items.append(f"R.{c.ident} AS {col.ident}")
        out.append(col)
    return Rel(f"SELECT {', '.join(items)} FROM ({lsql}) AS L {join} ({right.sql}) AS R ON {on}", out)


def compile_lookup(t: Tabular, op: ast.Lookup, left: Rel) -> Rel:
    """``lookup``: a left-outer (or inner) join whose right key columns are not repeated."""
    kind = str(op.params.get("kind", "leftouter")).lower()
    if kind not in ("leftouter", "inner"):
        raise KqlUnsupportedError("lookup kind", kind)
    right = t.tabular(op.right)
    on = _on(op.keys, left, right, "lookup")
    join = "LEFT JOIN" if kind == "leftouter" else "JOIN"
    # Dimension tables are small and unique per key in lookups; keep one row per key as KQL does.
    rsql = _unique_by_keys(right, [r for _, r in op.keys])
    return _combine(left, Rel(rsql, right.cols), left.sql, join, on, {r for _, r in op.keys})


def compile_union(t: Tabular, op: ast.Union, first: list[Rel], tables: Callable[[str], list[str]]) -> Rel:
    """Compile ``union [withsource=Name] a, b`` (an outer union: missing columns are null).

    *tables* lists the table names a wildcard (``Device*``, ``*``) matches.
    """
    unknown = set(op.params) - {
        "withsource",
        "with_source",
        "kind",
        "isfuzzy",
        "hint.concurrency",
        "hint.spread",
    }
    if unknown:
        raise KqlUnsupportedError("union parameter", sorted(unknown)[0])
    if str(op.params.get("kind", "outer")).lower() != "outer":
        raise KqlUnsupportedError("union kind", str(op.params["kind"]))
    parts: list[tuple[Rel, str]] = [(rel, "union_arg0") for rel in first]
    for item in op.items:
        if isinstance(item, ast.TablePattern):
            names = tables(item.pattern)
            if not names:
                raise KqlSemanticError(f"'union' operator: no table matches '{item.pattern}'")
            parts += [(t.tabular(ast.Col(n)), n) for n in names]
            continue
        label = item.name if isinstance(item, ast.Col) else f"union_arg{len(parts)}"
        parts.append((t.tabular(item), label))
    source = op.params.get("withsource") or op.params.get("with_source")
    return union_all(parts, str(source) if source else None)


def union_all(parts: list[tuple[Rel, str]], source: str | None) -> Rel:
    """``UNION ALL`` of *parts* over the union of their columns, with an optional source column."""
    cols: list[Column] = []
    seen: dict[str, Column] = {}
    for rel, _ in parts:
        for c in rel.cols:
            if c.name not in seen:
                seen[c.name] = c
                cols.append(c)
    namer = Namer()
    out = ([namer.column(source, "string")] if source else []) + [namer.column(c.name, c.type) for c in cols]
    selects = []
    for rel, label in parts:
        items = [f"{quote_str(label)} AS {out[0].ident}"] if source else []
        for c, o in zip(cols, out[1:] if source else out, strict=True):
            mine = rel.col(c.name)
            if mine is None:
                items.append(f"CAST(NULL AS {SQL_TYPE.get(c.type, 'VARCHAR')}) AS {o.ident}")
            elif mine.type != c.type:
                items.append(f"CAST({mine.ident} AS {SQL_TYPE.get(c.type, 'VARCHAR')}) AS {o.ident}")
            else:
                items.append(f"{mine.ident} AS {o.ident}")
        selects.append(f"SELECT {', '.join(items)} FROM ({rel.sql}) AS _t")
    return Rel(" UNION ALL ".join(f"({s})" for s in selects), out)


def match_tables(pattern: str, names: list[str]) -> list[str]:
    """The table names matching a KQL wildcard (``Device*``; ``*`` is every table)."""
    return [n for n in names if fnmatch.fnmatchcase(n, pattern)]


def _unused(_: Any) -> None:  # pragma: no cover
    return None
