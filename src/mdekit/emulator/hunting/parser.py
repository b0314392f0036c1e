"""Parse KQL text into the :mod:`.ast` tree with lark (LALR, contextual lexer).

Syntax errors carry the 1-based line and column; a real KQL operator the subset lacks (``mv-expand``,
``render``, ...) is reported by name instead of as a bare syntax error.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any

from lark import Lark, Token, Transformer, UnexpectedCharacters, UnexpectedEOF, UnexpectedInput, v_args

from mdekit.emulator.clock import parse_time
from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError, KqlSyntaxError, KqlUnsupportedError

__all__ = ["KNOWN_UNSUPPORTED_OPERATORS", "parse"]

#: Real KQL tabular operators outside the subset: named in the error instead of "could not be parsed".
KNOWN_UNSUPPORTED_OPERATORS = frozenset(
    [
        "as",
        "consume",
        "evaluate",
        "extend-keep",
        "externaldata",
        "facet",
        "find",
        "fork",
        "getschema",
        "invoke",
        "lookup",
        "make-graph",
        "make-series",
        "mv-apply",
        "mv-expand",
        "parse",
        "parse-kv",
        "parse-where",
        "partition",
        "print",
        "project-keep",
        "project-reorder",
        "range",
        "reduce",
        "render",
        "sample",
        "sample-distinct",
        "scan",
        "search",
        "serialize",
        "top-hitters",
        "top-nested",
        "datatable",
        "materialize",
    ]
)

_US: dict[str, int | Decimal] = {
    "d": 86_400_000_000,
    "day": 86_400_000_000,
    "days": 86_400_000_000,
    "h": 3_600_000_000,
    "hr": 3_600_000_000,
    "hrs": 3_600_000_000,
    "hour": 3_600_000_000,
    "hours": 3_600_000_000,
    "m": 60_000_000,
    "min": 60_000_000,
    "minute": 60_000_000,
    "minutes": 60_000_000,
    "s": 1_000_000,
    "sec": 1_000_000,
    "second": 1_000_000,
    "seconds": 1_000_000,
    "ms": 1000,
    "millisecond": 1000,
    "milliseconds": 1000,
    "microsecond": 1,
    "microseconds": 1,
    "tick": Decimal("0.1"),
    "ticks": Decimal("0.1"),
}
_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\", '"': '"', "'": "'", "0": "\0"}


@cache
def _parser() -> Lark:
    grammar = resources.files("mdekit.emulator.hunting").joinpath("kql.lark").read_text("utf-8")
    return Lark(
        grammar, parser="lalr", lexer="contextual", propagate_positions=True, maybe_placeholders=False
    )


def parse(text: str) -> ast.Query:
    """Parse a whole query (``let`` statements and one tabular expression) into an :class:`ast.Query`."""
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    statements = _ToAst().transform(tree).children
    lets = [s for s in statements if isinstance(s, ast.Let)]
    bodies = [s for s in statements if isinstance(s, ast.Pipeline)]
    if not bodies:
        raise KqlSemanticError("The query has no tabular expression to run (only 'let' statements)")
    if len(bodies) > 1:
        raise KqlUnsupportedError("feature", "multiple tabular results in one query")
    return ast.Query(lets, bodies[-1])


def _syntax_error(text: str, exc: UnexpectedInput) -> KqlSyntaxError | KqlUnsupportedError:
    tok = getattr(exc, "token", None)
    if isinstance(exc, UnexpectedEOF) or (isinstance(tok, Token) and tok.type == "$END"):
        lines = text.splitlines() or [""]
        return KqlSyntaxError(len(lines), len(lines[-1]) + 1, "<end of query>", "the query ends too early")
    pos = exc.pos_in_stream if exc.pos_in_stream is not None else 0
    word = re.match(r"[A-Za-z_][\w-]*", text[pos:])
    before = text[:pos].rstrip()
    if word and word.group(0).lower() in KNOWN_UNSUPPORTED_OPERATORS and (before.endswith("|") or not before):
        return KqlUnsupportedError("operator", word.group(0))
    near = word.group(0) if word else (text[pos] if pos < len(text) else "")
    if isinstance(exc, UnexpectedCharacters):
        near = (word.group(0) if word else text[pos : pos + 1]) or near
    else:
        near = str(getattr(exc, "token", near))
    return KqlSyntaxError(exc.line, exc.column, near)


def _unquote(raw: str) -> str:
    if raw.startswith("@"):
        quote = raw[1]
        return raw[2:-1].replace(quote * 2, quote)
    body = raw[1:-1]
    return re.sub(r"\\(u[0-9a-fA-F]{4}|.)", lambda m: _escape(m.group(1)), body)


def _escape(seq: str) -> str:
    if seq.startswith("u") and len(seq) == 5:
        return chr(int(seq[1:], 16))
    return _ESCAPES.get(seq, "\\" + seq)


def datetime_us(text: str) -> int:
    """Microseconds since the epoch for a KQL datetime text (``2024-01-01``, ``2024-01-01 10:00:00Z``)."""
    s = text.strip().strip("\"'")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d.*", s):
        s = s.replace(" ", "T", 1)
    try:
        dt = parse_time(s)
    except ValueError:
        raise KqlSemanticError(f"Invalid datetime literal: datetime({text})") from None
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


def _dynamic(text: str) -> Any:
    inner = text[text.index("(") + 1 : text.rindex(")")].strip()
    try:
        return json.loads(inner)
    except ValueError:
        pass
    try:  # KQL accepts single-quoted strings inside dynamic literals
        return json.loads(
            re.sub(r"'((?:\\.|[^'\\])*)'", lambda m: json.dumps(_unquote("'" + m.group(1) + "'")), inner)
        )
    except ValueError:
        raise KqlSemanticError(f"Invalid dynamic literal: {text}") from None


@v_args(inline=True)
class _ToAst(Transformer[Token, Any]):
    """lark tree -> ast nodes (one small method per grammar rule)."""

    # --- literals -------------------------------------------------------------------------
    def string(self, tok: Token) -> ast.Lit:
        return ast.Lit(_unquote(str(tok)), "string")

    def number(self, tok: Token) -> ast.Lit:
        s = str(tok)
        if re.fullmatch(r"\d+", s):
            return ast.Lit(int(s), "long")
        return ast.Lit(float(s), "real")

    def timespan(self, tok: Token) -> ast.Lit:
        m = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]+)", str(tok))
        assert m is not None  # the lexer's regex guarantees the shape
        return ast.Lit(int(Decimal(m.group(1)) * _US[m.group(2)]), "timespan")

    def datetime_lit(self, tok: Token) -> ast.Lit:
        inner = str(tok)[len("datetime(") : -1].strip()
        if inner.lower() == "null":
            return ast.Lit(None, "datetime")
        return ast.Lit(datetime_us(inner), "datetime")

    def dynamic_lit(self, tok: Token) -> ast.Lit:
        return ast.Lit(_dynamic(str(tok)), "dynamic")

    def bool_lit(self, tok: Token) -> ast.Lit:
        return ast.Lit(str(tok) == "true", "bool")

    def null_lit(self) -> ast.Lit:
        return ast.Lit(None, "null")

    # --- scalar expressions -----------------------------------------------------------------
    def column(self, tok: Token) -> ast.Col:
        name = str(tok)
        if name.startswith("["):
            name = name.strip("[] ")[1:-1]
        return ast.Col(name, tok.line or 0, tok.column or 0)

    def call(self, name: Token, args: list[Any] | None = None) -> ast.Call:
        return ast.Call(str(name), args or [], name.line or 0, name.column or 0)

    def arglist(self, *args: Any) -> list[Any]:
        return list(args)

    def star(self, _tok: Token) -> ast.Star:
        return ast.Star()

    def paren(self, pipe: ast.Pipeline) -> Any:
        return pipe.source if not pipe.ops else pipe

    def member(self, obj: Any, name: Token) -> ast.Member:
        return ast.Member(obj, str(name))

    def index(self, obj: Any, idx: Any) -> Any:
        if isinstance(idx, ast.Lit) and idx.type in ("string", "long"):
            return ast.Member(obj, idx.value)
        if isinstance(idx, ast.Neg) and isinstance(idx.expr, ast.Lit) and idx.expr.type == "long":
            return ast.Member(obj, -idx.expr.value)
        return ast.Index(obj, idx)

    def binop(self, left: Any, op: Token, right: Any) -> ast.BinOp:
        return ast.BinOp(str(op), left, right)

    def strop(self, left: Any, op: Token, right: Any) -> ast.BinOp:
        return ast.BinOp(str(op), left, right)

    def regex_match(self, left: Any, _op: Token, right: Any) -> ast.BinOp:
        return ast.BinOp("matches regex", left, right)

    def or_(self, left: Any, right: Any) -> ast.BinOp:
        return ast.BinOp("or", left, right)

    def and_(self, left: Any, right: Any) -> ast.BinOp:
        return ast.BinOp("and", left, right)

    def neg(self, op: Token, expr: Any) -> Any:
        if str(op) == "+":
            return expr
        if isinstance(expr, ast.Lit) and expr.type in ("long", "real", "timespan"):
            return ast.Lit(-expr.value, expr.type)
        return ast.Neg(expr)

    def in_(self, expr: Any, op: Token, *items: Any) -> ast.In:
        return ast.In(str(op), expr, [self.paren(i) if isinstance(i, ast.Pipeline) else i for i in items])

    def between(self, expr: Any, op: Token, lo: Any, hi: Any) -> ast.Between:
        return ast.Between(str(op).startswith("!"), expr, lo, hi)

    # --- tabular ---------------------------------------------------------------------------
    def start(self, *statements: Any) -> Any:
        from lark import Tree

        return Tree("start", list(statements))

    def let_stmt(self, name: Token, value: ast.Pipeline) -> ast.Let:
        return ast.Let(str(name), value)

    def pipeline(self, source: Any, *ops: Any) -> ast.Pipeline:
        return ast.Pipeline(source, list(ops))

    def assign_list(self, *items: Any) -> list[ast.Assign]:
        return [i if isinstance(i, ast.Assign) else ast.Assign(None, i) for i in items]

    def named(self, name: Token, expr: Any) -> ast.Assign:
        return ast.Assign(str(name), expr)

    def where_op(self, pred: Any) -> ast.Where:
        return ast.Where(pred)

    def project_op(self, items: list[ast.Assign]) -> ast.Project:
        return ast.Project(items)

    def extend_op(self, items: list[ast.Assign]) -> ast.Extend:
        return ast.Extend(items)

    def name_pattern(self, tok: Token) -> str:
        return str(tok)

    def project_away_op(self, _kw: Token, *patterns: str) -> ast.ProjectAway:
        return ast.ProjectAway(list(patterns))

    def rename(self, new: Token, old: Token) -> tuple[str, str]:
        return str(new), str(old)

    def project_rename_op(self, _kw: Token, *pairs: tuple[str, str]) -> ast.ProjectRename:
        return ast.ProjectRename(list(pairs))

    def summarize_op(self, *parts: Any) -> ast.Summarize:
        aggs: list[ast.Assign] = []
        by: list[ast.Assign] = []
        for part in parts:
            if isinstance(part, tuple):
                by = part[1]
            else:
                aggs = part
        return ast.Summarize(aggs, by)

    def by_clause(self, items: list[ast.Assign]) -> tuple[str, list[ast.Assign]]:
        return ("by", items)

    def sort_key(self, expr: Any, *mods: Token) -> ast.SortKey:
        key = ast.SortKey(expr)
        for mod in mods:
            if mod.type == "SORT_DIR":
                key.desc = str(mod) == "desc"
            elif mod.type == "NULLS_POS":
                key.nulls_first = str(mod) == "first"
        return key

    def sort_op(self, *keys: ast.SortKey) -> ast.Sort:
        return ast.Sort(list(keys))

    def take_op(self, count: Any) -> ast.Take:
        return ast.Take(count)

    def top_op(self, count: Any, key: ast.SortKey) -> ast.Top:
        return ast.Top(count, key)

    def distinct_op(self, *names: Token) -> ast.Distinct:
        if len(names) == 1 and names[0].type == "STAR":
            return ast.Distinct(None)
        return ast.Distinct([str(n) for n in names])

    def count_op(self) -> ast.Count:
        return ast.Count()

    def join_param(self, name: Token, value: Token) -> tuple[str, str]:
        return str(name).lower(), str(value)

    def join_same(self, name: Token) -> tuple[str, str]:
        return str(name), str(name)

    def join_lr(self, _l: Token, left: Token, _r: Token, right: Token) -> tuple[str, str]:
        return str(left), str(right)

    def join_rl(self, _r: Token, right: Token, _l: Token, left: Token) -> tuple[str, str]:
        return str(left), str(right)

    def join_op(self, *parts: Any) -> ast.Join:
        # parts: join parameters (pairs), the right side, then the keys (pairs)
        idx = next(i for i, p in enumerate(parts) if not isinstance(p, tuple))
        right = parts[idx]
        right = self.paren(right) if isinstance(right, ast.Pipeline) else right
        return ast.Join(dict(parts[:idx]), right, list(parts[idx + 1 :]))

    def union_op(self, *parts: Any) -> ast.Union:
        params: dict[str, str] = dict(p for p in parts if isinstance(p, tuple))
        return ast.Union(params, [p for p in parts if not isinstance(p, tuple)])
