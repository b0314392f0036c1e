"""Helpers shared by the scalar function tables (``fn_*.py``)."""

from __future__ import annotations

from typing import Any

from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError
from mdekit.emulator.hunting.scalars import Fn, ScalarCompiler
from mdekit.emulator.hunting.sql import E, quote_str

__all__ = ["DAY_US", "args", "period", "simple", "text_fn"]

DAY_US = 86_400_000_000


def args(c: ScalarCompiler, items: list[Any], name: str, lo: int, hi: int | None = None) -> list[E]:
    """Compile *items*, checking there are *lo* to *hi* of them."""
    hi = lo if hi is None else hi
    if not lo <= len(items) <= hi:
        want = str(lo) if lo == hi else f"{lo}-{hi}" if hi < 99 else f"at least {lo}"
        raise KqlSemanticError(f"Function '{name}' expects {want} argument(s), got {len(items)}")
    return [c.compile(a) for a in items]


def simple(name: str, sql: str, ktype: str, n: int = 1, text: bool = False) -> Fn:
    """A function whose SQL is a template over its *n* arguments (``text``: arguments as strings)."""

    def build(c: ScalarCompiler, items: list[Any]) -> E:
        parts = args(c, items, name, n)
        if text:
            parts = [c.text(p) for p in parts]
        return E(sql.format(*(p.sql for p in parts)), ktype)

    return build


def text_fn(name: str, sql: str, ktype: str = "string", lo: int = 1, hi: int | None = None) -> Fn:
    """A function over string arguments; missing optional arguments are passed as NULL."""

    def build(c: ScalarCompiler, items: list[Any]) -> E:
        parts = [c.text(p).sql for p in args(c, items, name, lo, hi)]
        parts += ["NULL"] * ((hi or lo) - len(parts))
        return E(sql.format(*parts), ktype)

    return build


def period(c: ScalarCompiler, node: Any) -> str:
    """A period argument (``'day'``, or the bare word ``day``) as a lower-case Python string."""
    if isinstance(node, ast.Col) and node.name not in c.columns:
        return node.name.lower()
    value = c.compile(node)
    if not isinstance(value.const, str):
        raise KqlSemanticError("The period must be a constant such as 'day' or 'hour'")
    return value.const.lower()


def const_text(c: ScalarCompiler, node: Any, what: str) -> str:
    """A constant string argument's value (patterns, formats)."""
    value = c.compile(node)
    if not isinstance(value.const, str):
        raise KqlSemanticError(f"The {what} must be a constant string")
    return value.const


def sql_text(value: str) -> str:
    """A SQL literal for *value*."""
    return quote_str(value)
