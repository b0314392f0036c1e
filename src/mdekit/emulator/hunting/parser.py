"""Parse KQL text into the :mod:`.ast` tree with lark (LALR, contextual lexer).

Syntax errors carry the 1-based line and column; a real KQL operator the subset lacks is reported by
name instead of as a bare syntax error. The tree is built without recursion (lark's non-recursive
transformer, ``and``/``or`` chains flattened), and bracket nesting is bounded before parsing, so a
hostile query gets a 400, never a ``RecursionError``.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from functools import cache
from importlib import resources
from typing import Any, NamedTuple

from lark import Lark, Token, Transformer_NonRecursive, Tree, UnexpectedEOF, UnexpectedInput, v_args
from lark.exceptions import VisitError

from mdekit.emulator.clock import parse_time
from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlError, KqlSemanticError, KqlSyntaxError, KqlUnsupportedError

__all__ = ["KNOWN_UNSUPPORTED_OPERATORS", "MAX_NESTING", "datetime_us", "parse", "timespan_us"]

#: Real KQL tabular operators outside the subset: named in the error instead of "could not be parsed".
KNOWN_UNSUPPORTED_OPERATORS = frozenset(
    [
        "consume",
        "extend-keep",
        "facet",
        "fork",
        "make-graph",
        "graph-match",
        "mv-apply",
        "parse-kv",
        "partition",
        "reduce",
        "scan",
        "top-hitters",
        "lookup-join",
        "macro-expand",
        "assert-schema",
    ]
)
#: Deepest bracket nesting accepted (emulator's bound; the real service's limit is UNVERIFIED).
MAX_NESTING = 64

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


class _Param(NamedTuple):
    name: str
    value: Any


class _Key(NamedTuple):
    left: str
    right: str


class _Prop(NamedTuple):
    name: str
    value: Any


@cache
def _parser() -> Lark:
    grammar = resources.files("mdekit.emulator.hunting").joinpath("kql.lark").read_text("utf-8")
    return Lark(
        grammar,
        parser="lalr",
        lexer="contextual",
        propagate_positions=True,
        maybe_placeholders=False,
        cache=_cache_file(grammar) or False,
    )


def _cache_file(grammar: str) -> str | None:
    """Where lark keeps the analysed grammar (building it takes about a second; loading, 40 ms).

    Only in a directory of the current user that nobody else can write to (lark unpickles the
    file), ``$XDG_CACHE_HOME/mdekit`` or ``~/.cache/mdekit``; ``None`` (no cache) otherwise.
    """
    import hashlib
    import os

    import lark

    try:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "mdekit")
        os.makedirs(folder, mode=0o700, exist_ok=True)
        info = os.stat(folder)
    except (OSError, RuntimeError):
        return None
    getuid = getattr(os, "getuid", None)
    if getuid is not None and (info.st_uid != getuid() or info.st_mode & 0o022):
        return None
    digest = hashlib.sha256(f"{lark.__version__}\n{grammar}".encode()).hexdigest()[:16]
    return os.path.join(folder, f"kql-grammar-{digest}.lark-cache")


def _check_nesting(text: str) -> None:
    depth = 0
    for m in re.finditer(
        r"//[^\n]*|@\"(?:[^\"]|\"\")*\"|@'(?:[^']|'')*'|\"(?:\\.|[^\"\\\n])*\"|'(?:\\.|[^'\\\n])*'|[(\[{]|[)\]}]",
        text,
    ):
        ch = m.group(0)
        if ch in "([{":
            depth += 1
            if depth > MAX_NESTING:
                line = text.count("\n", 0, m.start()) + 1
                raise KqlSemanticError(
                    f"The query nests brackets more than {MAX_NESTING} levels deep (line {line}): "
                    "simplify the query"
                )
        elif ch in ")]}":
            depth -= 1


def parse(text: str) -> ast.Query:
    """Parse a whole query (``let`` statements and one tabular expression) into an :class:`ast.Query`."""
    _check_nesting(text)
    try:
        tree = _parser().parse(text)
    except UnexpectedInput as exc:
        raise _syntax_error(text, exc) from None
    try:
        statements = _ToAst().transform(tree)
    except VisitError as exc:  # lark wraps what a rule raises: ours is the query's error
        if isinstance(exc.orig_exc, KqlError):
            raise exc.orig_exc from None
        raise
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
    before = re.sub(r"//[^\n]*", "", text[:pos]).rstrip()
    if (
        word
        and word.group(0).lower() in KNOWN_UNSUPPORTED_OPERATORS
        and (not before or before.endswith(("|", ";")))
    ):
        return KqlUnsupportedError("operator", word.group(0))
    near = str(tok) if isinstance(tok, Token) else (word.group(0) if word else text[pos : pos + 1]) or ""
    return KqlSyntaxError(exc.line, exc.column, near)


def _unquote(raw: str) -> str:
    if raw.startswith("```"):
        return raw[3:-3]
    if raw[:1] in "hH" and raw[1:2] in ("@", '"', "'"):
        raw = raw[1:]  # h"..." hides the text from logs; the value is the same
    if raw.startswith("@"):
        quote = raw[1]
        return raw[2:-1].replace(quote * 2, quote)
    body = raw[1:-1]
    return re.sub(r"\\(u[0-9a-fA-F]{4}|x[0-9a-fA-F]{2}|.)", lambda m: _escape(m.group(1)), body)


def _escape(seq: str) -> str:
    if seq[0] in "ux" and len(seq) in (3, 5):
        return chr(int(seq[1:], 16))
    return _ESCAPES.get(seq, "\\" + seq)


def datetime_us(text: str) -> int:
    """Microseconds since the epoch for a KQL datetime text (``2024-01-01``, ``2024-01-01 10:00:00Z``)."""
    s = text.strip().strip("\"'")
    if re.fullmatch(r"\d{4}-\d{2}-\d{2} \d.*", s):
        s = s.replace(" ", "T", 1)
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?", s) is None and (
        re.fullmatch(r"\d{4}-\d{2}-\d{2}", s) is None
    ):
        try:
            from email.utils import parsedate_to_datetime

            dt = parsedate_to_datetime(s)  # RFC 822 forms KQL also accepts
            return int(dt.timestamp()) * 1_000_000 + dt.microsecond
        except (TypeError, ValueError):
            raise KqlSemanticError(f"Invalid datetime literal: datetime({text})") from None
    try:
        dt = parse_time(s)
    except ValueError:
        raise KqlSemanticError(f"Invalid datetime literal: datetime({text})") from None
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


def timespan_us(text: str) -> int:
    """Microseconds of a KQL timespan literal (``1d``, ``2.5h``, ``30s``)."""
    m = re.fullmatch(r"(\d+(?:\.\d+)?)([a-z]+)", text)
    if m is None or m.group(2) not in _US:
        raise KqlSemanticError(f"Invalid timespan literal: {text}")
    return int(Decimal(m.group(1)) * _US[m.group(2)])


def _tokens(items: tuple[Any, ...], kind: type) -> list[Any]:
    return [i for i in items if isinstance(i, kind)]


def _params(items: tuple[Any, ...]) -> dict[str, Any]:
    return {p.name.lower(): p.value for p in items if isinstance(p, _Param)}


@v_args(inline=True)
class _ToAst(Transformer_NonRecursive[Token, Any]):
    """lark tree -> ast nodes (one small method per grammar rule)."""

    # --- literals -------------------------------------------------------------------------
    def string(self, *toks: Token) -> ast.Lit:
        return ast.Lit("".join(_unquote(str(t)) for t in toks), "string")

    def number(self, tok: Token) -> ast.Lit:
        s = str(tok)
        if re.fullmatch(r"\d+", s):
            # beyond a long (and int() refuses 4,300+ digits: an "unexpected error" before)
            if len(s.lstrip("0")) > 19:
                raise KqlSemanticError(f"The number {s[:24]}... is out of the range of long")
            return ast.Lit(int(s), "long")
        return ast.Lit(float(s), "real")

    def hex_number(self, tok: Token) -> ast.Lit:
        return ast.Lit(int(str(tok), 16), "long")

    def signed_number(self, sign: Token, tok: Token) -> ast.Lit:
        lit = self.number(tok)
        return ast.Lit(-lit.value if str(sign) == "-" else lit.value, lit.type)

    def timespan(self, tok: Token) -> ast.Lit:
        return ast.Lit(timespan_us(str(tok)), "timespan")

    def datetime_lit(self, tok: Token) -> ast.Lit:
        inner = str(tok)[len("datetime(") : -1].strip()
        if inner.lower() == "null":
            return ast.Lit(None, "datetime")
        return ast.Lit(datetime_us(inner), "datetime")

    def bool_lit(self, tok: Token) -> ast.Lit:
        return ast.Lit(str(tok) == "true", "bool")

    def null_lit(self) -> ast.Lit:
        return ast.Lit(None, "null")

    # --- dynamic literals (parsed by the grammar: comments inside them are ignored) ----------
    def dynamic_lit(self, value: Any) -> ast.Lit:
        return ast.Lit(value, "dynamic")

    def json_string(self, *toks: Token) -> str:
        return "".join(_unquote(str(t)) for t in toks)

    def json_number(self, tok: Token) -> int | float:
        return self.number(tok).value

    def json_signed(self, sign: Token, tok: Token) -> int | float:
        return self.signed_number(sign, tok).value

    def json_bool(self, tok: Token) -> bool:
        return str(tok) == "true"

    def json_null(self) -> None:
        return None

    def json_timespan(self, tok: Token) -> str:
        from mdekit.emulator.hunting.udfs import format_timespan

        return format_timespan(timespan_us(str(tok))) or ""

    def json_datetime(self, tok: Token) -> str:
        from mdekit.emulator.hunting.udfs import us_to_iso

        return us_to_iso(self.datetime_lit(tok).value) or ""

    def json_array(self, *items: Any) -> list[Any]:
        return list(items)

    def json_pair(self, key: Token, value: Any) -> tuple[str, Any]:
        return _unquote(str(key)), value

    def json_object(self, *pairs: tuple[str, Any]) -> dict[str, Any]:
        return dict(pairs)

    # --- scalar expressions -----------------------------------------------------------------
    def column(self, tok: Token) -> ast.Col:
        name = str(tok)
        if name.startswith("["):
            name = name.strip("[] ")[1:-1]
        return ast.Col(name, tok.line or 0, tok.column or 0)

    def call(self, name: Token, args: list[Any] | None = None) -> ast.Call:
        return ast.Call(str(name), args or [], name.line or 0, name.column or 0)

    def arglist(self, *args: Any) -> list[Any]:
        return [self._unwrap(a) for a in args]

    def named_arg(self, name: Token, expr: Any) -> ast.NamedArg:
        return ast.NamedArg(str(name), expr)

    def star(self, _tok: Token) -> ast.Star:
        return ast.Star()

    def _unwrap(self, node: Any) -> Any:
        if isinstance(node, ast.Pipeline) and not node.ops:
            return node.source
        return node

    def paren(self, pipe: ast.Pipeline) -> Any:
        return self._unwrap(pipe)

    def member(self, obj: Any, name: Token) -> ast.Member:
        return ast.Member(obj, str(name))

    def member_bracket(self, obj: Any, tok: Token) -> ast.Member:
        return ast.Member(obj, str(tok).strip("[] ")[1:-1])

    def index(self, obj: Any, idx: Any) -> Any:
        if isinstance(idx, ast.Lit) and idx.type in ("string", "long"):
            return ast.Member(obj, idx.value)
        if isinstance(idx, ast.Neg) and isinstance(idx.expr, ast.Lit) and idx.expr.type == "long":
            return ast.Member(obj, -idx.expr.value)
        return ast.Index(obj, idx)

    def binop(self, left: Any, op: Token, right: Any) -> ast.BinOp:
        return ast.BinOp(str(op), left, right)

    def strop(self, left: Any, op: Token, right: Any) -> ast.BinOp:
        name = str(op)
        name = {"notcontains": "!contains", "notcontains_cs": "!contains_cs", "nothas": "!has"}.get(
            name, name
        )
        return ast.BinOp(name, left, right)

    def star_strop(self, _star: Token, op: Token, right: Any) -> ast.AnyColumnOp:
        return ast.AnyColumnOp(str(op), right)

    def list_strop(self, left: Any, op: Token, *items: Any) -> ast.ListOp:
        return ast.ListOp(str(op), left, [self._unwrap(i) for i in items])

    def list_strop_one(self, left: Any, op: Token, item: Any) -> ast.ListOp:
        node = self.column(item) if isinstance(item, Token) else item
        return ast.ListOp(str(op), left, [node])

    def regex_match(self, left: Any, _op: Token, right: Any) -> ast.BinOp:
        return ast.BinOp("matches regex", left, right)

    def _bool(self, op: str, left: Any, right: Any) -> ast.BoolOp:
        items = left.items if isinstance(left, ast.BoolOp) and left.op == op else [left]
        return ast.BoolOp(op, [*items, right])

    def or_(self, left: Any, right: Any) -> ast.BoolOp:
        return self._bool("or", left, right)

    def and_(self, left: Any, right: Any) -> ast.BoolOp:
        return self._bool("and", left, right)

    def neg(self, op: Token, expr: Any) -> Any:
        if str(op) == "+":
            return expr
        if isinstance(expr, ast.Lit) and expr.type in ("long", "real", "timespan"):
            return ast.Lit(-expr.value, expr.type)
        return ast.Neg(expr)

    def in_(self, expr: Any, op: Token, *items: Any) -> ast.In:
        return ast.In(str(op), expr, [self._unwrap(i) for i in items])

    def in_name(self, expr: Any, op: Token, name: Token) -> ast.In:
        return ast.In(str(op), expr, [self.column(name)])

    def between(self, expr: Any, op: Token, lo: Any, hi: Any) -> ast.Between:
        return ast.Between(str(op).startswith("!"), expr, lo, hi)

    # --- statements ----------------------------------------------------------------------------
    def start(self, *statements: Any) -> list[Any]:
        return [s for s in statements if s is not None]

    def let_stmt(self, name: Token, value: Any) -> ast.Let:
        return ast.Let(str(name), value)

    def set_stmt(self, *_parts: Any) -> None:
        return None  # query options (`set notruncation;`) change nothing the emulator models

    def param(self, name: Token, kind: Any, default: Any = None) -> ast.Param:
        return ast.Param(str(name), str(kind) if isinstance(kind, Token) else kind, default)

    def any_table(self, _star: Token) -> str:
        return "table"

    def table_type(self, *_cols: Any) -> str:
        return "table"

    def fn_body(self, *parts: Any) -> tuple[list[ast.Let], ast.Pipeline]:
        return [p for p in parts if isinstance(p, ast.Let)], parts[-1]

    def fn_def(self, *parts: Any) -> ast.FnDef:
        params = [p for p in parts if isinstance(p, ast.Param)]
        lets, body = parts[-1]
        return ast.FnDef(params, lets, body)

    # --- tabular ---------------------------------------------------------------------------
    def pipeline(self, source: Any, *ops: Any) -> ast.Pipeline:
        return ast.Pipeline(source, list(ops))

    def assign_list(self, *items: Any) -> list[ast.Assign]:
        return [i if isinstance(i, ast.Assign) else ast.Assign(None, i) for i in items]

    def named(self, name: Token, expr: Any) -> ast.Assign:
        return ast.Assign(str(name), expr)

    def tuple_named(self, *parts: Any) -> ast.Assign:
        names = [str(p) for p in parts[:-1]]
        return ast.Assign(None, parts[-1], names)

    def where_op(self, pred: Any) -> ast.Where:
        return ast.Where(pred)

    def project_op(self, items: list[ast.Assign]) -> ast.Project:
        return ast.Project(items)

    def extend_op(self, items: list[ast.Assign]) -> ast.Extend:
        return ast.Extend(items)

    def name_pattern(self, tok: Token) -> str:
        text = str(tok)
        return text.strip("[] ")[1:-1] if tok.type == "BRACKET_NAME" else text

    def project_away_op(self, _kw: Token, *patterns: str) -> ast.ProjectAway:
        return ast.ProjectAway(list(patterns))

    def project_keep_op(self, _kw: Token, *patterns: str) -> ast.ProjectKeep:
        return ast.ProjectKeep(list(patterns))

    def reorder_item(self, pattern: str, direction: Token | None = None) -> tuple[str, str | None]:
        return pattern, str(direction) if direction is not None else None

    def project_reorder_op(self, _kw: Token, *items: tuple[str, str | None]) -> ast.ProjectReorder:
        return ast.ProjectReorder(list(items))

    def rename(self, new: Token, old: Token) -> tuple[str, str]:
        return str(new), str(old)

    def project_rename_op(self, _kw: Token, *pairs: tuple[str, str]) -> ast.ProjectRename:
        return ast.ProjectRename(list(pairs))

    def op_param(self, name: Token, value: Token) -> _Param:
        text = str(value)
        if value.type == "STRING":
            return _Param(str(name), _unquote(text))
        if value.type == "NUMBER":
            return _Param(str(name), self.number(value).value)
        if value.type == "BOOL":
            return _Param(str(name), text == "true")
        return _Param(str(name), text)

    def summarize_op(self, *parts: Any) -> ast.Summarize:
        aggs: list[ast.Assign] = []
        by: list[ast.Assign] = []
        for part in parts:
            if isinstance(part, tuple) and not isinstance(part, _Param) and part and part[0] == "by":
                by = part[1]
            elif isinstance(part, list):
                aggs = part
        return ast.Summarize(aggs, by, _params(parts))

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

    def nested_count(self, expr: Any) -> tuple[str, Any]:
        return ("count", expr)

    def nested_others(self, expr: Any) -> tuple[str, Any]:
        return ("others", expr)

    def nested_level(self, _kw: Token, *parts: Any) -> ast.NestedLevel:
        count = next((p[1] for p in parts if isinstance(p, tuple) and p[0] == "count"), None)
        others = next((p[1] for p in parts if isinstance(p, tuple) and p[0] == "others"), None)
        assigns = [
            p if isinstance(p, ast.Assign) else ast.Assign(None, p)
            for p in parts
            if not isinstance(p, tuple | Token)
        ]
        desc = not any(isinstance(p, Token) and str(p) == "asc" for p in parts)
        return ast.NestedLevel(count, assigns[0], others, assigns[1], desc)

    def top_nested_op(self, *levels: ast.NestedLevel) -> ast.TopNested:
        return ast.TopNested(list(levels))

    def distinct_op(self, items: Any) -> ast.Distinct:
        if isinstance(items, Token):
            return ast.Distinct(None)
        return ast.Distinct(items)

    def count_op(self) -> ast.Count:
        return ast.Count()

    def join_same(self, name: Token) -> _Key:
        return _Key(str(name), str(name))

    def join_lr(self, _l: Token, left: Token, _r: Token, right: Token) -> _Key:
        return _Key(str(left), str(right))

    def join_rl(self, _r: Token, right: Token, _l: Token, left: Token) -> _Key:
        return _Key(str(left), str(right))

    def _join_parts(self, parts: tuple[Any, ...]) -> tuple[dict[str, Any], Any, list[tuple[str, str]]]:
        right = next(p for p in parts if not isinstance(p, _Param | _Key))
        keys = [tuple(p) for p in parts if isinstance(p, _Key)]
        return _params(parts), self._unwrap(right), keys  # type: ignore[return-value]

    def join_op(self, *parts: Any) -> ast.Join:
        return ast.Join(*self._join_parts(parts))

    def lookup_op(self, *parts: Any) -> ast.Lookup:
        return ast.Lookup(*self._join_parts(parts))

    def table_pattern(self, tok: Token) -> ast.TablePattern:
        return ast.TablePattern(str(tok))

    def union_op(self, *parts: Any) -> ast.Union:
        items = [self._unwrap(p) for p in parts if not isinstance(p, _Param)]
        return ast.Union(_params(parts), items)

    def mv_item(self, *parts: Any) -> ast.MvItem:
        name = str(parts[0]) if isinstance(parts[0], Token) else None
        rest = parts[1:] if name is not None else parts
        to_type = str(rest[1]) if len(rest) > 1 else None
        return ast.MvItem(name, rest[0], to_type)

    def mv_limit(self, expr: Any) -> tuple[str, Any]:
        return ("limit", expr)

    def mv_expand_op(self, _kw: Token, *parts: Any) -> ast.MvExpand:
        items = _tokens(parts, ast.MvItem)
        limit = next((p[1] for p in parts if isinstance(p, tuple) and not isinstance(p, _Param)), None)
        return ast.MvExpand(_params(parts), items, limit)

    def parse_text(self, tok: Token) -> ast.ParseItem:
        return ast.ParseItem(text=_unquote(str(tok)))

    def parse_star(self, _tok: Token) -> ast.ParseItem:
        return ast.ParseItem(star=True)

    def parse_col(self, name: Token, kind: Token | None = None) -> ast.ParseItem:
        return ast.ParseItem(name=str(name), type=str(kind) if kind is not None else "string")

    def parse_op(self, kw: Token, *parts: Any) -> ast.Parse:
        items = _tokens(parts, ast.ParseItem)
        expr = next(p for p in parts if not isinstance(p, _Param | ast.ParseItem))
        return ast.Parse(_params(parts), expr, items, str(kw) == "parse-where")

    def serialize_op(self, items: list[ast.Assign] | None = None) -> ast.Serialize:
        return ast.Serialize(items or [])

    def render_prop(self, name: Token, *value: Any) -> _Prop:
        return _Prop(str(name), value[0] if value else None)

    def render_op(self, kind: Token, *_props: Any) -> ast.Render:
        return ast.Render(str(kind))

    def evaluate_op(self, *parts: Any) -> ast.Evaluate:
        name = next(p for p in parts if isinstance(p, Token))
        args = next((p for p in parts if isinstance(p, list)), [])
        return ast.Evaluate(str(name), args)

    def invoke_op(self, name: Token, args: list[Any] | None = None) -> ast.Invoke:
        return ast.Invoke(str(name), args or [])

    def as_op(self, *parts: Any) -> ast.As:
        return ast.As(str(parts[-1]))

    def getschema_op(self) -> ast.GetSchema:
        return ast.GetSchema()

    def _tables(self, parts: tuple[Any, ...]) -> list[Any]:
        return [
            self.column(p) if isinstance(p, Token) else p
            for p in parts
            if isinstance(p, Token | ast.TablePattern)
        ]

    def search_op(self, *parts: Any) -> ast.Search:
        return ast.Search(_params(parts), self._tables(parts[:-1]), parts[-1])

    def find_src(self, *parts: Any) -> ast.Find:
        project = [p for p in parts if isinstance(p, str)]
        pred = next(p for p in parts if not isinstance(p, Token | ast.TablePattern | _Param | str))
        return ast.Find(_params(parts), self._tables(parts), pred, project or None)

    def sample_op(self, count: Any) -> ast.Sample:
        return ast.Sample(count)

    def sample_distinct_op(self, _kw: Token, count: Any, expr: Any) -> ast.SampleDistinct:
        return ast.SampleDistinct(count, expr)

    def series_agg(self, assign: Any, default: Any = None) -> tuple[ast.Assign, Any]:
        return (assign if isinstance(assign, ast.Assign) else ast.Assign(None, assign), default)

    def ms_from(self, expr: Any) -> tuple[str, Any]:
        return ("from", expr)

    def ms_to(self, expr: Any) -> tuple[str, Any]:
        return ("to", expr)

    def make_series_op(self, _kw: Token, *parts: Any) -> ast.MakeSeries:
        aggs = [p for p in parts if isinstance(p, tuple) and isinstance(p[0], ast.Assign)]
        marks = {p[0]: p[1] for p in parts if isinstance(p, tuple) and p and p[0] in ("from", "to", "by")}
        exprs = [p for p in parts if not isinstance(p, tuple | _Param)]
        axis, step = exprs[0], exprs[1]
        return ast.MakeSeries(aggs, axis, marks.get("from"), marks.get("to"), step, marks.get("by", []))

    def col_decl(self, name: Token, kind: Token) -> tuple[str, str]:
        return str(name), str(kind).lower()

    def literal_list(self, *values: Any) -> list[ast.Lit]:
        return list(values)

    def datatable(self, *parts: Any) -> ast.DataTable:
        cols = [p for p in parts if isinstance(p, tuple)]
        values = next((p for p in parts if isinstance(p, list)), [])
        return ast.DataTable(cols, values)

    def externaldata(self, *parts: Any) -> ast.ExternalData:
        cols = [p for p in parts if isinstance(p, tuple) and not isinstance(p, _Prop)]
        values = next((p for p in parts if isinstance(p, list)), [])
        props = {p.name.lower(): p.value for p in parts if isinstance(p, _Prop)}
        return ast.ExternalData(cols, [str(v.value) for v in values], props)

    def range_src(self, _kw: Token, name: Token, start: Any, stop: Any, step: Any) -> ast.Range:
        return ast.Range(str(name), start, stop, step)

    def print_src(self, items: list[ast.Assign]) -> ast.Print:
        return ast.Print(items)


def _dynamic_text(value: Any) -> str:
    """A dynamic literal's value as JSON text (what the engine stores)."""
    return json.dumps(value, separators=(",", ":"))


def _tree_name(node: Any) -> str:  # pragma: no cover - debugging aid
    return node.data if isinstance(node, Tree) else type(node).__name__
