"""Compile a parsed KQL query (:mod:`.ast`) to one DuckDB ``SELECT``.

Every tabular operator wraps the previous stage as a sub-select; DuckDB's optimizer folds the
nesting back. Each stage tracks its columns and their KQL types: they become the response's
``Schema``. The operator implementations live in ``ops_basic``, ``ops_more``, ``joins``,
``summarize`` and ``sources``; they see the compiler only through :class:`.scalars.Tabular`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mdekit.emulator.hunting import ast
from mdekit.emulator.hunting.errors import KqlSemanticError, KqlUnsupportedError
from mdekit.emulator.hunting.functions import FUNCTIONS
from mdekit.emulator.hunting.joins import compile_join, compile_lookup, compile_union, match_tables
from mdekit.emulator.hunting.ops_basic import OPERATORS
from mdekit.emulator.hunting.ops_more import MORE_OPERATORS
from mdekit.emulator.hunting.scalars import Fn, ScalarCompiler
from mdekit.emulator.hunting.sources import (
    ExternalRows,
    datatable,
    externaldata,
    find,
    print_row,
    range_rows,
    search,
)
from mdekit.emulator.hunting.sql import Column, E, Namer, Rel, quote_ident
from mdekit.emulator.hunting.summarize import compile_summarize

__all__ = ["Compiler", "TableResolver", "compile_query"]

#: Resolves a table name to its SELECT (with the time window applied) or ``None``.
TableResolver = Callable[[str], Rel | None]
#: How deep user functions may call each other (a recursive function must not hang the engine).
_MAX_CALL_DEPTH = 32


@dataclass
class _Frame:
    """One scope of ``let`` names: the query's, or a function call's parameters and lets."""

    values: dict[str, Any] = field(default_factory=dict)


@dataclass
class Compiler:
    """Compiles one query; holds the ``let`` scopes, the clock reading and the tables used."""

    tables: TableResolver
    table_names: list[str]
    now_us: int
    probe_fn: Callable[[str, set[str]], list[tuple[Any, ...]]] | None = None
    external: ExternalRows = lambda _url: None
    used: set[str] = field(default_factory=set)
    frames: list[_Frame] = field(default_factory=lambda: [_Frame()])

    # --- names ------------------------------------------------------------------------------
    def _lookup(self, name: str) -> Any:
        for frame in reversed(self.frames):
            if name in frame.values:
                return frame.values[name]
        return None

    def _bind(self, name: str, value: Any) -> None:
        self.frames[-1].values[name] = value

    def compile_query(self, query: ast.Query) -> Rel:
        """The whole query: bind each ``let`` in order, then compile the body."""
        for let in query.lets:
            self._bind_let(let)
        rel = self.tabular(query.body)
        if any(isinstance(op, ast.Render) for op in query.body.ops[:-1]):
            raise KqlSemanticError("The 'render' operator must be the last operator of the query")
        return rel

    def _bind_let(self, let: ast.Let) -> None:
        value = let.value
        if isinstance(value, ast.FnDef):
            self._bind(let.name, value)
        elif value.ops or self._is_tabular(value.source):
            self._bind(let.name, self.tabular(value))
        else:
            self._bind(let.name, _Scalar(value.source, len(self.frames)))

    def _is_tabular(self, node: Any) -> bool:
        if isinstance(node, ast.Pipeline):
            return bool(node.ops) or self._is_tabular(node.source)
        if isinstance(
            node, ast.Union | ast.DataTable | ast.ExternalData | ast.Range | ast.Print | ast.Search | ast.Find
        ):
            return True
        if isinstance(node, ast.Col):
            bound = self._lookup(node.name)
            if isinstance(bound, Rel):
                return True
            if isinstance(bound, ast.FnDef):
                return not bound.params and self._fn_is_tabular(bound)
            return bound is None and self.tables(node.name) is not None
        if isinstance(node, ast.Call):
            if node.name in ("materialize", "view") and node.args:
                return self._is_tabular(node.args[0])
            fn = self._lookup(node.name)
            return isinstance(fn, ast.FnDef) and self._fn_is_tabular(fn)
        return False

    def _fn_is_tabular(self, fn: ast.FnDef) -> bool:
        body = fn.body
        if body.ops:
            return True
        params = {p.name for p in fn.params if p.type == "table"}
        if isinstance(body.source, ast.Col) and body.source.name in params:
            return True
        return self._is_tabular(body.source)

    # --- the Scope / Tabular protocols ----------------------------------------------------------
    def scalars(self, rel: Rel, aggregate: Callable[[ast.Call], E] | None = None) -> ScalarCompiler:
        """A scalar compiler over *rel*'s columns."""
        return ScalarCompiler(rel, self, aggregate)

    def resolve_scalar(self, name: str) -> Any | None:
        """The AST of scalar ``let`` *name*, or ``None``."""
        bound = self._lookup(name)
        if isinstance(bound, Rel):
            raise KqlSemanticError(f"'{name}' is a tabular expression and cannot be used as a scalar")
        if isinstance(bound, _Scalar):
            return bound.node
        return None

    def tabular_or_none(self, node: Any) -> Rel | None:
        """*node* compiled when it is a tabular expression, else ``None``."""
        return self.tabular(node) if self._is_tabular(node) else None

    def function(self, name: str) -> Fn | None:
        """The built-in scalar function *name*."""
        return FUNCTIONS.get(name)

    def call_user(self, name: str, args: list[Any], sc: ScalarCompiler) -> E | None:
        """Inline a call of the user-defined scalar function *name* (``None`` if not one)."""
        fn = self._lookup(name)
        if not isinstance(fn, ast.FnDef):
            return None
        if self._fn_is_tabular(fn):
            raise KqlSemanticError(f"'{name}' returns a table and cannot be used as a scalar")
        with self._call_frame(fn, args, name):
            return sc.compile(fn.body.source)

    def scalar_value(self, rel: Rel) -> tuple[bool, Any]:
        """The first cell of *rel*, evaluated now (``toscalar``); ``(False, None)`` without a database."""
        if self.probe_fn is None or not rel.cols:
            return False, None
        rows = self.probe(f"SELECT {rel.cols[0].ident} FROM ({rel.sql}) AS _s LIMIT 1")
        return True, rows[0][0] if rows else None

    def probe(self, sql: str) -> list[tuple[Any, ...]]:
        """Run *sql* now: operators whose output columns depend on the data (bag_unpack, pivot)."""
        if self.probe_fn is None:
            raise KqlUnsupportedError("feature", "data-dependent columns without a database")
        return self.probe_fn(sql, set(self.used))

    # --- user functions ------------------------------------------------------------------------
    def _call_frame(self, fn: ast.FnDef, args: list[Any], name: str) -> _CallFrame:
        if len(self.frames) > _MAX_CALL_DEPTH:
            raise KqlSemanticError(f"Function '{name}' calls itself too deeply")
        if len(args) > len(fn.params):
            raise KqlSemanticError(f"Function '{name}' expects {len(fn.params)} argument(s), got {len(args)}")
        frame = _Frame()
        for i, param in enumerate(fn.params):
            arg = args[i] if i < len(args) else param.default
            if arg is None:
                raise KqlSemanticError(f"Function '{name}': missing argument '{param.name}'")
            if isinstance(arg, ast.NamedArg):
                arg = arg.expr
            if param.type == "table" or self._is_tabular(arg):
                frame.values[param.name] = self.tabular(arg)
            else:
                frame.values[param.name] = _Scalar(arg, len(self.frames), self._snapshot())
        return _CallFrame(self, frame, fn)

    def _snapshot(self) -> list[_Frame]:
        return list(self.frames)

    # --- tabular expressions ----------------------------------------------------------------
    def tabular(self, node: Any) -> Rel:
        """Compile a tabular expression (table name, ``let`` name, source, union or pipeline)."""
        if isinstance(node, ast.Pipeline):
            rel = self._source(node.source)
            for op in node.ops:
                rel = self.apply(op, rel)
            return rel
        return self._source(node)

    def _source(self, node: Any) -> Rel:
        if isinstance(node, ast.Pipeline):
            return self.tabular(node)
        if isinstance(node, ast.Union):
            return compile_union(self, node, [], self._match)
        if isinstance(node, ast.DataTable):
            return datatable(node)
        if isinstance(node, ast.ExternalData):
            return externaldata(node, self.external)
        if isinstance(node, ast.Range):
            return range_rows(self, node)
        if isinstance(node, ast.Print):
            return print_row(self, node)
        if isinstance(node, ast.Search):
            return search(self, node, None, self.table_names)
        if isinstance(node, ast.Find):
            return find(self, node, self.table_names)
        if isinstance(node, ast.Call):
            return self._call_source(node)
        if isinstance(node, ast.Col):
            return self._named_source(node)
        raise KqlSemanticError("A query must start with a table name, a 'let' name or a tabular source")

    def _named_source(self, node: ast.Col) -> Rel:
        bound = self._lookup(node.name)
        if isinstance(bound, Rel):
            return bound
        if isinstance(bound, ast.FnDef):
            return self._call_source(ast.Call(node.name, []))
        table = self.tables(node.name)
        if table is not None:
            self.used.add(node.name)
            return table
        raise KqlSemanticError(f"Failed to resolve table or column expression named '{node.name}'")

    def _call_source(self, node: ast.Call) -> Rel:
        if node.name in ("materialize", "view") and len(node.args) == 1:
            return self.tabular(node.args[0])
        fn = self._lookup(node.name)
        if isinstance(fn, ast.FnDef):
            with self._call_frame(fn, node.args, node.name):
                return self.tabular(fn.body)
        if node.name in FUNCTIONS:
            raise KqlSemanticError(f"'{node.name}()' returns a scalar, not a table")
        raise KqlUnsupportedError("function", node.name)

    def _match(self, pattern: str) -> list[str]:
        return match_tables(pattern, self.table_names)

    def apply(self, op: Any, rel: Rel) -> Rel:
        """Apply one tabular operator to *rel*."""
        handler = OPERATORS.get(type(op)) or MORE_OPERATORS.get(type(op))
        if handler is not None:
            result: Rel = handler(self, op, rel)
            return result
        if isinstance(op, ast.Summarize):
            return compile_summarize(self, op, rel)
        if isinstance(op, ast.Join):
            return compile_join(self, op, rel)
        if isinstance(op, ast.Lookup):
            return compile_lookup(self, op, rel)
        if isinstance(op, ast.Union):
            return compile_union(self, op, [rel], self._match)
        if isinstance(op, ast.Search):
            return search(self, op, rel, self.table_names)
        if isinstance(op, ast.Invoke):
            return self._invoke(op, rel)
        if isinstance(op, ast.As):
            self._bind(op.name, rel)
            return rel
        raise KqlUnsupportedError("operator", type(op).__name__)  # pragma: no cover - grammar-bound

    def _invoke(self, op: ast.Invoke, rel: Rel) -> Rel:
        if op.name == "FileProfile":
            return self._file_profile(op, rel)
        fn = self._lookup(op.name)
        if not isinstance(fn, ast.FnDef) or not fn.params:
            raise KqlUnsupportedError("function", op.name)
        marker = ast.Col(f"__invoke_{len(self.frames)}")
        self._bind(marker.name, rel)
        try:
            with self._call_frame(fn, [marker, *op.args], op.name):
                return self.tabular(fn.body)
        finally:
            self.frames[-1].values.pop(marker.name, None)

    def _file_profile(self, op: ast.Invoke, rel: Rel) -> Rel:
        """``invoke FileProfile(column, limit)``: the file's global profile, joined on its hash."""
        key = "SHA1"
        if op.args:
            first = op.args[0]
            key = str(
                first.value
                if isinstance(first, ast.Lit)
                else first.name
                if isinstance(first, ast.Col)
                else key
            )
        col = rel.col(key)
        if col is None:
            raise KqlSemanticError(f"FileProfile(): Failed to resolve column named '{key}'")
        profiles = self.tables("__FileProfiles")
        if profiles is None:  # pragma: no cover - the store always provides it
            raise KqlUnsupportedError("function", "FileProfile")
        self.used.add("__FileProfiles")
        match = "SHA256" if key.endswith("SHA256") else "SHA1"
        taken = set(rel.names())
        namer = Namer()
        items, cols = [], []
        for c in rel.cols:
            out = namer.column(c.name, c.type)
            items.append(f"L.{c.ident} AS {out.ident}")
            cols.append(out)
        for c in profiles.cols:
            name = c.name if c.name not in taken else c.name + "1"
            out = namer.column(name, c.type)
            items.append(f"R.{c.ident} AS {out.ident}")
            cols.append(out)
        sql = (
            f"SELECT {', '.join(items)} FROM ({rel.sql}) AS L LEFT JOIN ({profiles.sql}) AS R "
            f"ON lower(L.{col.ident}) = R.{quote_ident(match)}"
        )
        return Rel(sql, cols)


@dataclass
class _Scalar:
    """A scalar ``let`` value or argument: its AST and the scope it was written in."""

    node: Any
    depth: int
    frames: list[_Frame] | None = None


class _CallFrame:
    """Pushes a function call's scope for the duration of a ``with`` block."""

    def __init__(self, compiler: Compiler, frame: _Frame, fn: ast.FnDef) -> None:
        self.compiler, self.frame, self.fn = compiler, frame, fn

    def __enter__(self) -> _CallFrame:
        self.compiler.frames.append(self.frame)
        for let in self.fn.lets:
            self.compiler._bind_let(let)
        return self

    def __exit__(self, *_exc: object) -> None:
        self.compiler.frames.pop()


def compile_query(
    query: ast.Query,
    tables: TableResolver,
    table_names: list[str],
    now_us: int,
    probe: Callable[[str, set[str]], list[tuple[Any, ...]]] | None = None,
    external: ExternalRows | None = None,
) -> tuple[Rel, set[str]]:
    """Compile *query*; returns the relation and the names of the tables it reads."""
    compiler = Compiler(tables, table_names, now_us, probe, external or (lambda _url: None))
    rel = compiler.compile_query(query)
    return rel, compiler.used


def _unused(c: Column) -> None:  # pragma: no cover
    del c
