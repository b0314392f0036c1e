"""``$filter`` for the emulated lists: a small recursive-descent parser compiled to parameterised SQL.

Supported (service-facts §5.1): ``eq ne gt ge lt le``, ``and or not``, parentheses,
``startswith(prop,'x')`` (also ``endswith``/``contains``), single-quoted strings (``''`` escapes a
quote), numbers, ``true``/``false``/``null`` and unquoted dates/datetimes (``2019-11-22T00:00:00Z``,
and the docs' ``2018-08-01Z``). Property names are case-insensitive; only the documented
properties of each list can be filtered. Anything else raises :class:`ODataError` naming the problem.

Why not a library: ``odata-query`` (the best-kept parser on PyPI) rejects the docs' own
``lastSeen gt 2018-08-01Z`` literal and ``not(...)`` without a space, and pins ``sly<0.5``; the
subset the service documents is small enough to parse here, with every value bound as a parameter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from mdekit.emulator.clock import format_odata_time, parse_time

__all__ = ["Field", "ODataError", "compile_filter", "parse_filter"]


class ODataError(ValueError):
    """An invalid or unsupported OData query (answered 400 ``ODataError``)."""


@dataclass(frozen=True)
class Field:
    """A filterable property: its SQL column and kind (str, enum, int, float, bool, datetime, tags)."""

    column: str
    kind: str = "str"
    values: tuple[str, ...] = field(default=())


# --- tokens -----------------------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
    (?P<ws>\s+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,7})?)?)?(?:Z|[+-]\d{2}:\d{2})?(?![\w.:-]))
  | (?P<number>-?\d+(?:\.\d+)?(?![\w-]))
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[(),])
    """,
    re.VERBOSE,
)
_COMPARE = {"eq": "=", "ne": "<>", "gt": ">", "ge": ">=", "lt": "<", "le": "<="}
_FUNCS = {"startswith", "endswith", "contains"}


@dataclass(frozen=True)
class Tok:
    kind: str
    text: str
    pos: int


def _tokenize(text: str) -> list[Tok]:
    out: list[Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ODataError(f"Syntax error at position {pos} in '{text}': unexpected '{text[pos]}'")
        kind = m.lastgroup or ""
        if kind != "ws":
            out.append(Tok(kind, m.group(), pos))
        pos = m.end()
    return out


# --- AST --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Literal:
    kind: str  # string, number, datetime, bool, null
    value: Any


@dataclass(frozen=True)
class Compare:
    op: str
    prop: str
    value: Literal


@dataclass(frozen=True)
class Call:
    func: str
    prop: str
    value: Literal


@dataclass(frozen=True)
class BoolOp:
    op: str  # and / or
    left: Node
    right: Node


@dataclass(frozen=True)
class Not:
    operand: Node


Node = Compare | Call | BoolOp | Not


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> Tok:
        tok = self.peek()
        if tok is None:
            raise ODataError(f"Syntax error: '{self.text}' ends unexpectedly")
        self.i += 1
        return tok

    def keyword(self, *words: str) -> str | None:
        tok = self.peek()
        if tok is not None and tok.kind == "name" and tok.text.lower() in words:
            self.i += 1
            return tok.text.lower()
        return None

    def expect(self, text: str) -> None:
        if self.peek() is None:
            raise ODataError(f"Syntax error: expected '{text}' at the end of '{self.text}'")
        tok = self.take()
        if tok.text != text:
            raise ODataError(f"Syntax error at position {tok.pos}: expected '{text}' but found '{tok.text}'")

    def parse(self) -> Node:
        if not self.toks:
            raise ODataError("The $filter expression is empty")
        node = self.or_expr()
        tok = self.peek()
        if tok is not None:
            raise ODataError(f"Syntax error at position {tok.pos}: unexpected '{tok.text}'")
        return node

    def or_expr(self) -> Node:
        node = self.and_expr()
        while self.keyword("or"):
            node = BoolOp("or", node, self.and_expr())
        return node

    def and_expr(self) -> Node:
        node = self.unary()
        while self.keyword("and"):
            node = BoolOp("and", node, self.unary())
        return node

    def unary(self) -> Node:
        if self.keyword("not"):
            return Not(self.unary())
        tok = self.peek()
        if tok is not None and tok.text == "(":
            self.take()
            node = self.or_expr()
            self.expect(")")
            return node
        return self.primary()

    def primary(self) -> Node:
        tok = self.take()
        if tok.kind != "name":
            raise ODataError(
                f"Syntax error at position {tok.pos}: expected a property name, found '{tok.text}'"
            )
        nxt = self.peek()
        if nxt is not None and nxt.text == "(":
            return self.call(tok)
        op_tok = self.take()
        op = op_tok.text.lower()
        if op_tok.kind != "name" or op not in _COMPARE:
            raise ODataError(f"Syntax error at position {op_tok.pos}: unknown operator '{op_tok.text}'")
        return Compare(op, tok.text, self.literal())

    def call(self, name: Tok) -> Node:
        func = name.text.lower()
        if func not in _FUNCS:
            raise ODataError(f"Unknown function '{name.text}' at position {name.pos}")
        self.expect("(")
        prop = self.take()
        if prop.kind != "name":
            raise ODataError(f"Syntax error at position {prop.pos}: expected a property name")
        self.expect(",")
        value = self.literal()
        self.expect(")")
        node: Node = Call(func, prop.text, value)
        if self.keyword("eq"):  # startswith(x,'a') eq true / eq false
            flag = self.literal()
            if flag.kind != "bool":
                raise ODataError(f"{func}() can only be compared with true or false")
            node = node if flag.value else Not(node)
        return node

    def literal(self) -> Literal:
        tok = self.take()
        if tok.kind == "string":
            return Literal("string", tok.text[1:-1].replace("''", "'"))
        if tok.kind == "number":
            value = float(tok.text) if "." in tok.text else int(tok.text)
            if not -(2**63) <= value < 2**63:  # Edm.Int64 range (SQLite's too)
                raise ODataError(f"The number {tok.text} at position {tok.pos} is out of range")
            return Literal("number", value)
        if tok.kind == "datetime":
            return Literal("datetime", _datetime(tok.text))
        low = tok.text.lower()
        if tok.kind == "name" and low in ("true", "false"):
            return Literal("bool", low == "true")
        if tok.kind == "name" and low == "null":
            return Literal("null", None)
        raise ODataError(f"Syntax error at position {tok.pos}: expected a literal value, found '{tok.text}'")


def _datetime(text: str) -> str:
    core = text[:-1] if text.endswith("Z") and len(text) == 11 else text  # 2018-08-01Z (docs' form)
    try:
        return format_odata_time(parse_time(core))
    except ValueError:
        raise ODataError(f"'{text}' is not a valid date/time") from None


def parse_filter(text: str) -> Node:
    """Parse a ``$filter`` expression into an AST (raises :class:`ODataError`)."""
    return _Parser(text).parse()


# --- compile to SQL -----------------------------------------------------------------------------


class _Compiler:
    def __init__(self, fields: dict[str, Field], set_name: str) -> None:
        self.fields = {k.lower(): v for k, v in fields.items()}
        self.set_name = set_name
        self.params: list[Any] = []

    def field(self, prop: str) -> Field:
        found = self.fields.get(prop.lower())
        if found is None:
            raise ODataError(f"Invalid filter: property '{prop}' is not filterable on {self.set_name}")
        return found

    def node(self, node: Node) -> str:
        if isinstance(node, BoolOp):
            return f"({self.node(node.left)} {node.op.upper()} {self.node(node.right)})"
        if isinstance(node, Not):
            return f"(NOT ({self.node(node.operand)}))"
        if isinstance(node, Call):
            return self.call(node)
        return self.compare(node)

    def bind(self, value: Any) -> str:
        self.params.append(value)
        return "?"

    def value(self, f: Field, prop: str, lit: Literal) -> Any:
        if f.kind in ("str", "tags") and lit.kind == "string":
            return lit.value
        if f.kind == "enum" and lit.kind == "string":
            for allowed in f.values:
                if allowed.lower() == lit.value.lower():
                    return allowed
            raise ODataError(f"The string '{lit.value}' is not a valid value of '{prop}'")
        if f.kind == "int" and lit.kind == "number" and isinstance(lit.value, int):
            return lit.value
        if f.kind == "int" and lit.kind == "string" and lit.value.lstrip("-").isdigit():
            return int(lit.value)
        if f.kind == "float" and lit.kind == "number":  # Edm.Double properties (cvssV3, scores)
            return float(lit.value)
        if f.kind == "bool" and lit.kind == "bool":
            return 1 if lit.value else 0
        if f.kind == "datetime" and lit.kind in ("datetime", "string"):
            return lit.value if lit.kind == "datetime" else _datetime(lit.value)
        raise ODataError(f"A {lit.kind} literal cannot be compared with '{prop}' ({f.kind})")

    def compare(self, node: Compare) -> str:
        f = self.field(node.prop)
        sql_op = _COMPARE[node.op]
        if node.value.kind == "null":
            if node.op not in ("eq", "ne"):
                raise ODataError(f"null can only be compared with eq or ne ('{node.prop}')")
            return f"{f.column} IS {'NOT ' if node.op == 'ne' else ''}NULL"
        value = self.value(f, node.prop, node.value)
        if f.kind == "tags":
            if node.op not in ("eq", "ne"):
                raise ODataError(f"'{node.prop}' supports only eq and ne")
            each = f"SELECT 1 FROM json_each({f.column})"
            exists = f"EXISTS ({each} WHERE value = {self.bind(value)} COLLATE NOCASE)"
            return exists if node.op == "eq" else f"NOT {exists}"
        if f.kind in ("enum", "bool") and node.op not in ("eq", "ne"):
            raise ODataError(f"'{node.prop}' supports only eq and ne")
        if node.op == "ne":  # OData: null ne 'x' is true; SQL's <> would drop null rows
            return f"{f.column} IS NOT {self.bind(value)}"
        return f"{f.column} {sql_op} {self.bind(value)}"

    def call(self, node: Call) -> str:
        f = self.field(node.prop)
        if f.kind not in ("str", "tags", "enum") or node.value.kind != "string":
            raise ODataError(f"{node.func}() needs a string property and a string literal ('{node.prop}')")
        text = node.value.value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern = {"startswith": f"{text}%", "endswith": f"%{text}", "contains": f"%{text}%"}[node.func]
        if f.kind == "tags":
            each = f"SELECT 1 FROM json_each({f.column})"
            return f"EXISTS ({each} WHERE value LIKE {self.bind(pattern)} ESCAPE '\\')"
        return f"{f.column} LIKE {self.bind(pattern)} ESCAPE '\\'"


def compile_filter(text: str, fields: dict[str, Field], set_name: str) -> tuple[str, list[Any]]:
    """``$filter`` *text* as a SQL condition over *fields* plus its parameters."""
    compiler = _Compiler(fields, set_name)
    return compiler.node(parse_filter(text)), compiler.params
