"""``join`` (inner, innerunique, leftouter, leftanti, leftsemi) and ``union`` compiled to SQL."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError, KqlUnsupportedError
from mdekit.emulator.hunting.scalars import quote_ident, quote_str

if TYPE_CHECKING:
    from mdekit.emulator.hunting.compiler import Compiler, Rel

__all__ = ["JOIN_KINDS", "compile_join", "compile_union"]

#: Supported join flavours (aliases mapped to their canonical names).
JOIN_KINDS = {
    "inner": "inner",
    "innerunique": "innerunique",
    "leftouter": "leftouter",
    "leftanti": "leftanti",
    "anti": "leftanti",
    "leftantisemi": "leftanti",
    "leftsemi": "leftsemi",
    "semi": "leftsemi",
}


def _on(keys: list[tuple[str, str]], left: Rel, right: Rel) -> str:
    lt, rt = left.types(), right.types()
    parts = []
    for lk, rk in keys:
        if lk not in lt:
            raise KqlSemanticError(f"'join' operator: Failed to resolve column named '{lk}' on the left side")
        if rk not in rt:
            raise KqlSemanticError(
                f"'join' operator: Failed to resolve column named '{rk}' on the right side"
            )
        parts.append(f"L.{quote_ident(lk)} = R.{quote_ident(rk)}")
    return " AND ".join(parts)


def _dedupe_left(left: Rel, keys: list[tuple[str, str]]) -> str:
    # innerunique (KQL's default) keeps one left row per join key before joining.
    cols = ", ".join(quote_ident(c.name) for c in left.cols)
    part = ", ".join(quote_ident(lk) for lk, _ in keys)
    return (
        f"SELECT {cols} FROM (SELECT *, row_number() OVER (PARTITION BY {part}) AS __rn "
        f"FROM ({left.sql}) AS _t) AS _t WHERE __rn = 1"
    )


def compile_join(compiler: Compiler, op: ast.Join, left: Rel) -> Rel:
    """Compile ``left | join kind=... (right) on keys``."""
    from mdekit.emulator.hunting.compiler import Column, Rel, unique_name

    kind_text = op.params.get("kind", "innerunique")
    kind = JOIN_KINDS.get(kind_text.lower())
    if kind is None:
        raise KqlUnsupportedError("join kind", kind_text)
    unknown = set(op.params) - {"kind", "hint.strategy", "hint.remote"}
    if unknown:
        raise KqlUnsupportedError("join parameter", sorted(unknown)[0])
    if not op.keys:
        raise KqlSemanticError("'join' operator needs 'on' keys")
    right = compiler.tabular(op.right)
    on = _on(op.keys, left, right)
    lsql = _dedupe_left(left, op.keys) if kind == "innerunique" else left.sql
    lcols = ", ".join(f"L.{quote_ident(c.name)} AS {quote_ident(c.name)}" for c in left.cols)
    if kind in ("leftanti", "leftsemi"):
        exists = "NOT EXISTS" if kind == "leftanti" else "EXISTS"
        sql = (
            f"SELECT {lcols} FROM ({lsql}) AS L WHERE {exists} (SELECT 1 FROM ({right.sql}) AS R WHERE {on})"
        )
        return Rel(sql, left.cols)
    taken = set(left.names())
    rcols: list[str] = []
    out = list(left.cols)
    for c in right.cols:
        name = unique_name(c.name, taken)
        taken.add(name)
        rcols.append(f"R.{quote_ident(c.name)} AS {quote_ident(name)}")
        out.append(Column(name, c.type))
    join = "LEFT JOIN" if kind == "leftouter" else "JOIN"
    sql = f"SELECT {lcols}, {', '.join(rcols)} FROM ({lsql}) AS L {join} ({right.sql}) AS R ON {on}"
    return Rel(sql, out)


def compile_union(compiler: Compiler, op: ast.Union, first: list[Rel]) -> Rel:
    """Compile ``union [withsource=Name] a, b`` (an outer union: missing columns are null)."""
    from mdekit.emulator.hunting.compiler import Column, Rel

    unknown = set(op.params) - {"withsource", "kind", "isfuzzy"}
    if unknown:
        raise KqlUnsupportedError("union parameter", sorted(unknown)[0])
    if op.params.get("kind", "outer").lower() != "outer":
        raise KqlUnsupportedError("union kind", op.params["kind"])
    parts = [*((rel, "union_arg0") for rel in first)]
    for i, item in enumerate(op.items, start=len(parts)):
        label = item.name if isinstance(item, ast.Col) else f"union_arg{i}"
        parts.append((compiler.tabular(item), label))
    cols: list[Column] = []
    for rel, _ in parts:
        cols += [c for c in rel.cols if c.name not in {x.name for x in cols}]
    source = op.params.get("withsource")
    selects = []
    for rel, label in parts:
        names = set(rel.names())
        items = [quote_ident(c.name) if c.name in names else f"NULL AS {quote_ident(c.name)}" for c in cols]
        if source:
            items.insert(0, f"{quote_str(label)} AS {quote_ident(source)}")
        selects.append(f"SELECT {', '.join(items)} FROM ({rel.sql}) AS _t")
    out = ([Column(source, "string")] if source else []) + cols
    return Rel(" UNION ALL ".join(selects), out)
