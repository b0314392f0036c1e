"""``$filter`` for the emulated lists: a small recursive-descent parser compiled to parameterised SQL.

Supported (service-facts §5.1): ``eq ne gt ge lt le``, ``and or not``, parentheses,
``startswith(prop,'x')`` (also ``endswith``/``contains``), ``prop in ('a','b')``, the lambda
operators on string collections (``machineTags/any(tag: tag eq 'X')``, the docs' own example, and
``all``, and ``machineTags/any()`` for "not empty"), single-quoted strings (``''`` escapes a
quote), numbers, ``true``/``false``/``null`` and unquoted dates/datetimes (``2019-11-22T00:00:00Z``,
and the docs' ``2018-08-01Z``). Property names are case-insensitive; only the documented
properties of each list can be filtered. Anything else raises :class:`ODataError` naming the problem.
(``in`` and ``all`` are standard OData the docs never show: accepted as the lenient choice, UNVERIFIED.)

Why not a library: ``odata-query`` (the best-kept parser on PyPI) rejects the docs' own
``lastSeen gt 2018-08-01Z`` literal and ``not(...)`` without a space, and pins ``sly<0.5``; the
subset the service documents is small enough to parse here, with every value bound as a parameter.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mdekit.emulator.clock import format_odata_time, parse_time
from mdekit.emulator.limits import MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, MAX_FILTER_TERMS

__all__ = ["Field", "ODataError", "check_option_names", "compile_filter", "parse_filter"]


class ODataError(ValueError):
    """An invalid or unsupported OData query (answered 400 ``ODataError``)."""


def check_option_names(params: Iterable[str], allowed: Iterable[str]) -> None:
    """Refuse a ``$``-prefixed query option not in *allowed* (lower-case names), in the service's
    own words (a real answer to the docs' ``$stop`` typo, MicrosoftDocs/microsoft-365-docs#12682)."""
    known = set(allowed)
    for key in params:
        if key.startswith("$") and key.lower() not in known:
            raise ODataError(
                "The query specified in the URI is not valid. "
                f"Custom query option '{key}' that starts with '$' is not supported."
            )


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
  | (?P<punct>[(),/:])
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


def _quote(text: str, limit: int = 120) -> str:
    """*text* for an error message: a 500 KB filter is not echoed back whole."""
    return text if len(text) <= limit else f"{text[: limit // 2]}...{text[-limit // 3 :]}"


def _tokenize(text: str) -> list[Tok]:
    out: list[Tok] = []
    pos = 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if m is None:
            raise ODataError(f"Syntax error at position {pos} in '{_quote(text)}': unexpected '{text[pos]}'")
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
    """``and``/``or`` over two or more operands (chains are flat: ``a or b or c`` is one node)."""

    op: str  # and / or
    operands: tuple[Node, ...]


@dataclass(frozen=True)
class Not:
    operand: Node


@dataclass(frozen=True)
class Lambda:
    """``prop/any(var: body)`` or ``prop/all(var: body)``; ``body`` None for ``prop/any()``."""

    prop: str
    op: str  # any / all
    var: str
    body: Node | None


Node = Compare | Call | BoolOp | Not | Lambda


def _combine(op: str, operands: list[Node]) -> Node:
    """One n-ary node for *operands*, absorbing nested nodes of the same operator."""
    flat: list[Node] = []
    for item in operands:
        flat.extend(item.operands if isinstance(item, BoolOp) and item.op == op else (item,))
    return flat[0] if len(flat) == 1 else BoolOp(op, tuple(flat))


class _Parser:
    """Recursive descent over the tokens; recursion only at parentheses, bounded by MAX_FILTER_DEPTH."""

    def __init__(self, text: str) -> None:
        if len(text) > MAX_FILTER_LENGTH:
            raise ODataError(
                f"The $filter expression is {len(text):,} characters long; at most "
                f"{MAX_FILTER_LENGTH:,} are supported"
            )
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0
        self.depth = 0
        self.terms = 0

    def peek(self) -> Tok | None:
        return self.toks[self.i] if self.i < len(self.toks) else None

    def take(self) -> Tok:
        tok = self.peek()
        if tok is None:
            raise ODataError(f"Syntax error: '{_quote(self.text)}' ends unexpectedly")
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
            raise ODataError(f"Syntax error: expected '{text}' at the end of '{_quote(self.text)}'")
        tok = self.take()
        if tok.text != text:
            raise ODataError(
                f"Syntax error at position {tok.pos}: expected '{text}' but found '{_quote(tok.text)}'"
            )

    def parse(self) -> Node:
        if not self.toks:
            raise ODataError("The $filter expression is empty")
        node = self.or_expr()
        tok = self.peek()
        if tok is not None:
            raise ODataError(f"Syntax error at position {tok.pos}: unexpected '{_quote(tok.text)}'")
        return node

    def or_expr(self) -> Node:
        operands = [self.and_expr()]
        while self.keyword("or"):
            operands.append(self.and_expr())
        return _combine("or", operands)

    def and_expr(self) -> Node:
        operands = [self.unary()]
        while self.keyword("and"):
            operands.append(self.unary())
        return _combine("and", operands)

    def unary(self) -> Node:
        negations = 0
        while self.keyword("not"):  # a loop, not recursion: `not not ... x` of any length
            negations += 1
        node = self.group() if self._at("(") else self.primary()
        return _negate(node) if negations % 2 else node

    def _at(self, text: str) -> bool:
        tok = self.peek()
        return tok is not None and tok.text == text

    def group(self) -> Node:
        self.take()
        self.depth += 1
        if self.depth > MAX_FILTER_DEPTH:
            raise ODataError(f"The $filter expression nests deeper than {MAX_FILTER_DEPTH} parentheses")
        node = self.or_expr()
        self.expect(")")
        self.depth -= 1
        return node

    def _count_term(self) -> None:
        self.terms += 1
        if self.terms > MAX_FILTER_TERMS:
            raise ODataError(f"The $filter expression has more than {MAX_FILTER_TERMS:,} comparisons")

    def primary(self) -> Node:
        self._count_term()
        tok = self.take()
        if tok.kind != "name":
            raise ODataError(
                f"Syntax error at position {tok.pos}: expected a property name, found '{_quote(tok.text)}'"
            )
        nxt = self.peek()
        if nxt is not None and nxt.text == "(":
            return self.call(tok)
        if nxt is not None and nxt.text == "/":
            return self.lambda_(tok)
        op_tok = self.take()
        op = op_tok.text.lower()
        if op_tok.kind == "name" and op == "in":
            return self.in_list(tok)
        if op_tok.kind != "name" or op not in _COMPARE:
            raise ODataError(
                f"Syntax error at position {op_tok.pos}: unknown operator '{_quote(op_tok.text)}'"
            )
        return Compare(op, tok.text, self.literal())

    def in_list(self, prop: Tok) -> Node:
        """``prop in (v1, v2, ...)``: the ``or`` of ``prop eq v`` (compiled to one SQL ``IN``)."""
        self.expect("(")
        values = [self.literal()]
        while self._at(","):
            self.take()
            self._count_term()
            values.append(self.literal())
        self.expect(")")
        return _combine("or", [Compare("eq", prop.text, v) for v in values])

    def lambda_(self, prop: Tok) -> Node:
        """``prop/any(v: body)``, ``prop/all(v: body)``, ``prop/any()``."""
        self.take()  # "/"
        op_tok = self.take()
        op = op_tok.text.lower()
        if op_tok.kind != "name" or op not in ("any", "all"):
            raise ODataError(
                f"Syntax error at position {op_tok.pos}: expected any or all after "
                f"'{_quote(prop.text)}/', found '{_quote(op_tok.text)}'"
            )
        self.expect("(")
        if self._at(")") and op == "any":
            self.take()
            return Lambda(prop.text, op, "", None)
        var = self.take()
        if var.kind != "name":
            raise ODataError(f"Syntax error at position {var.pos}: expected a lambda variable name")
        self.expect(":")
        self.depth += 1
        if self.depth > MAX_FILTER_DEPTH:
            raise ODataError(f"The $filter expression nests deeper than {MAX_FILTER_DEPTH} parentheses")
        body = self.or_expr()
        self.depth -= 1
        self.expect(")")
        if _has_lambda(body):
            raise ODataError("Nested lambda operators (any/all inside any/all) are not supported")
        return Lambda(prop.text, op, var.text, body)

    def call(self, name: Tok) -> Node:
        func = name.text.lower()
        if func not in _FUNCS:
            raise ODataError(f"Unknown function '{_quote(name.text)}' at position {name.pos}")
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
            node = node if flag.value else _negate(node)
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
        raise ODataError(
            f"Syntax error at position {tok.pos}: expected a literal value, found '{_quote(tok.text)}'"
        )


_SEVENTH = re.compile(r"\.\d{6}(\d)")


def _datetime(text: str) -> str:
    core = text[:-1] if text.endswith("Z") and len(text) == 11 else text  # 2018-08-01Z (docs' form)
    try:
        stored = format_odata_time(parse_time(core))
    except ValueError:
        raise ODataError(f"'{text}' is not a valid date/time") from None
    # parse_time keeps microseconds; the 7th digit (100 ns, the service's tick) is the literal's
    # (an offset shifts whole minutes, never the fraction): `gt <an alert's own time>` excludes it
    tick = _SEVENTH.search(core)
    return f"{stored[:26]}{tick.group(1)}Z" if tick else stored


def _has_lambda(node: Node) -> bool:
    if isinstance(node, Lambda):
        return True
    if isinstance(node, BoolOp):
        return any(_has_lambda(o) for o in node.operands)
    return isinstance(node, Not) and _has_lambda(node.operand)


def _negate(node: Node) -> Node:
    """``not node``; a double negation cancels."""
    return node.operand if isinstance(node, Not) else Not(node)


def parse_filter(text: str) -> Node:
    """Parse a ``$filter`` expression into an AST (raises :class:`ODataError`)."""
    return _Parser(text).parse()


# --- compile to SQL -----------------------------------------------------------------------------

#: Operands per parenthesised group in the SQL: SQLite refuses expression trees deeper than 1,000,
#: and a flat chain of n ORs is n deep. Groups of 16 keep 5,000 terms, or 32 levels of nesting with
#: a long list at each, a few hundred deep.
_SQL_GROUP = 16


class _Compiler:
    def __init__(self, fields: dict[str, Field], set_name: str) -> None:
        self.fields = {k.lower(): v for k, v in fields.items()}
        self.set_name = set_name
        self.params: list[Any] = []

    def field(self, prop: str) -> Field:
        found = self.fields.get(prop.lower())
        if found is None:
            raise ODataError(
                f"Invalid filter: property '{_quote(prop)}' is not filterable on {self.set_name}"
            )
        return found

    def node(self, node: Node) -> str:
        if isinstance(node, BoolOp):
            return self.bool_op(node)
        if isinstance(node, Lambda):
            return self.lambda_(node)
        if isinstance(node, Not):
            inner = self.node(node.operand)
            return f"NOT {inner}" if isinstance(node.operand, BoolOp) else f"NOT ({inner})"
        if isinstance(node, Call):
            return self.call(node)
        return self.compare(node)

    def bool_op(self, node: BoolOp) -> str:
        """The operands joined; same-column ``eq`` terms of an ``or`` become one ``IN (...)``."""
        lead, skip = self._sets(node)
        parts: list[tuple[int, str, list[Any]]] = []
        for operand in node.operands:
            if id(operand) in skip:
                continue
            members = lead.get(id(operand))
            mark = len(self.params)
            sql = self.node(operand) if members is None else self.membership(node.op, members)
            parts.append((_nesting(operand), sql, self.params[mark:]))
            del self.params[mark:]
        # The deepest operand first (AND/OR commute in a WHERE): SQLite's parser then holds no
        # pending operand per level of nesting, so only the parentheses fill its 100-entry stack.
        parts.sort(key=lambda part: -part[0])
        for _, _, params in parts:
            self.params.extend(params)
        return _join(node.op, [sql for _, sql, _ in parts])

    def _sets(self, node: BoolOp) -> tuple[dict[int, list[Compare]], set[int]]:
        """Operands that test one column against a list of values: ``x eq a or x eq b``, or
        ``x ne a and x ne b`` (first member -> all members; the others to skip)."""
        want = "eq" if node.op == "or" else "ne"
        by_column: dict[str, list[Compare]] = {}
        for operand in node.operands:
            if isinstance(operand, Compare) and operand.op == want and operand.value.kind != "null":
                f = self.field(operand.prop)
                if f.kind != "tags":
                    by_column.setdefault(f.column, []).append(operand)
        lead: dict[int, list[Compare]] = {}
        skip: set[int] = set()
        for members in by_column.values():
            if len(members) > 1:
                lead[id(members[0])] = members
                skip.update(id(m) for m in members[1:])
        return lead, skip

    def membership(self, op: str, members: list[Compare]) -> str:
        """``col IN (...)`` for an ``eq`` list; for a ``ne`` list, ``NOT IN`` keeping nulls as ``ne`` does."""
        f = self.field(members[0].prop)
        values = ", ".join(self.bind(self.value(f, m.prop, m.value)) for m in members)
        if op == "or":
            return f"{f.column} IN ({values})"
        return f"({f.column} IS NULL OR {f.column} NOT IN ({values}))"

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
            raise ODataError(f"The string '{_quote(lit.value)}' is not a valid value of '{prop}'")
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

    def lambda_(self, node: Lambda) -> str:
        """``EXISTS`` over the collection's elements (``all``: no element failing the body)."""
        f = self.field(node.prop)
        if f.kind != "tags":
            raise ODataError(f"'{node.prop}' is not a collection: any/all need one")
        each = f"SELECT 1 FROM json_each({f.column})"
        if node.body is None:
            return f"EXISTS ({each})"
        inner = _Compiler({node.var: Field("value COLLATE NOCASE")}, self.set_name)
        inner.params = self.params  # one parameter list, in SQL order
        body = inner.node(node.body)
        if node.op == "any":
            return f"EXISTS ({each} WHERE {body})"
        # all: no element for which the body is not true (NULL counts as not true)
        return f"NOT EXISTS ({each} WHERE NOT coalesce({body}, 0))"

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


def _join(op: str, parts: list[str]) -> str:
    """*parts* (deepest first) joined by *op*; the others in parenthesised groups of at most
    :data:`_SQL_GROUP`, so the chain above the deepest part, and SQLite's expression tree, stay short."""
    if len(parts) == 1:
        return parts[0]
    glue = f" {op.upper()} "
    first, rest = parts[0], parts[1:]
    while len(rest) > _SQL_GROUP:
        rest = [f"({glue.join(rest[i : i + _SQL_GROUP])})" for i in range(0, len(rest), _SQL_GROUP)]
    return f"({glue.join([first, *rest])})"


def _nesting(node: Node) -> int:
    """How deeply *node* nests (0 for a comparison); recursion bounded by MAX_FILTER_DEPTH."""
    if isinstance(node, BoolOp):
        return 1 + max(_nesting(o) for o in node.operands)
    if isinstance(node, Not):
        return 1 + _nesting(node.operand)
    if isinstance(node, Lambda) and node.body is not None:
        return 1 + _nesting(node.body)
    return 0


def compile_filter(text: str, fields: dict[str, Field], set_name: str) -> tuple[str, list[Any]]:
    """``$filter`` *text* as a SQL condition over *fields* plus its parameters."""
    compiler = _Compiler(fields, set_name)
    return compiler.node(parse_filter(text)), compiler.params
