"""The KQL syntax tree: plain dataclasses produced by :mod:`.parser`, consumed by the compiler.

Scalar nodes (``Lit``, ``Col``, ``Call``, ``BinOp``, ...), tabular sources (a table name as a
``Col``, ``DataTable``, ``Range``, ``Print``, ``Union``, ...) and one class per tabular operator.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

#: Any expression node (kept as ``Any``: a long union alias would add nothing for mypy here).
Expr = Any
#: Any tabular operator node.
Op = Any


# --- scalars ----------------------------------------------------------------------------------
@dataclass
class Lit:
    """A literal. ``type`` is a KQL type name; datetimes/timespans hold integer microseconds."""

    value: Any
    type: str


@dataclass
class Col:
    """A name: a column, a ``let`` binding or a table, resolved by the compiler."""

    name: str
    line: int = 0
    column: int = 0


@dataclass
class Star:
    """``*`` as a function argument (``arg_max(Timestamp, *)``, ``count(*)``)."""


@dataclass
class Call:
    """A function call ``name(args)``."""

    name: str
    args: list[Expr]
    line: int = 0
    column: int = 0


@dataclass
class NamedArg:
    """``name = expr`` inside a call's argument list."""

    name: str
    expr: Expr


@dataclass
class Member:
    """``obj.key`` or ``obj["key"]`` / ``obj[0]`` with a literal key (dynamic access)."""

    obj: Expr
    key: str | int


@dataclass
class Index:
    """``obj[expr]`` with a computed index."""

    obj: Expr
    index: Expr


@dataclass
class BinOp:
    """A binary operator: arithmetic, comparison, string operators, ``matches regex``."""

    op: str
    left: Expr
    right: Expr


@dataclass
class BoolOp:
    """``a and b and c`` / ``a or b or c``, flattened (long chains never nest deeply)."""

    op: str
    items: list[Expr]


@dataclass
class ListOp:
    """``expr has_any (a, b)`` / ``has_all``: the right side is a list of items."""

    op: str
    expr: Expr
    items: list[Expr]


@dataclass
class AnyColumnOp:
    """``* has "x"`` (any column): the ``search`` form of a string operator."""

    op: str
    right: Expr


@dataclass
class Neg:
    """Unary minus."""

    expr: Expr


@dataclass
class In:
    """``expr in (...)``, ``!in``, ``in~``, ``!in~``; items may be scalars, lists or tabular pipelines."""

    op: str
    expr: Expr
    items: list[Expr]


@dataclass
class Between:
    """``expr between (lo .. hi)`` / ``!between``."""

    negate: bool
    expr: Expr
    lo: Expr
    hi: Expr


# --- tabular sources --------------------------------------------------------------------------
@dataclass
class Pipeline:
    """``source | op | op ...``; a pipeline without operators around a scalar is just that scalar."""

    source: Expr
    ops: list[Op] = field(default_factory=list)


@dataclass
class TablePattern:
    """A wildcard table name in ``union``/``search``/``find`` (``Device*``, ``*``)."""

    pattern: str


@dataclass
class Union:
    """``union [withsource=Name] a, b``."""

    params: dict[str, Any]
    items: list[Expr]


@dataclass
class DataTable:
    """``datatable(a:string, ...) [values]``: ``columns`` are (name, KQL type) pairs."""

    columns: list[tuple[str, str]]
    values: list[Lit]


@dataclass
class ExternalData:
    """``externaldata(a:string, ...) [urls] with (...)``."""

    columns: list[tuple[str, str]]
    urls: list[str]
    props: dict[str, Any]


@dataclass
class Range:
    """``range name from a to b step s``."""

    name: str
    start: Expr
    stop: Expr
    step: Expr


@dataclass
class Print:
    """``print a = expr, ...``: one row."""

    items: list[Assign]


@dataclass
class Search:
    """``[T |] search [in (tables)] predicate``."""

    params: dict[str, Any]
    tables: list[Expr]
    pred: Expr


@dataclass
class Find:
    """``find [withsource=X] [in (tables)] where predicate [project cols]``."""

    params: dict[str, Any]
    tables: list[Expr]
    pred: Expr
    project: list[str] | None


# --- operators --------------------------------------------------------------------------------
@dataclass
class Assign:
    """``name = expr`` or a bare ``expr`` in project/extend/summarize lists.

    ``names`` holds the names of a tuple assignment, ``(a, b) = ...``.
    """

    name: str | None
    expr: Expr
    names: list[str] | None = None


@dataclass
class SortKey:
    """One ``order by`` key; ``desc`` is KQL's default."""

    expr: Expr
    desc: bool = True
    nulls_first: bool | None = None


@dataclass
class Where:
    """``where predicate``."""

    pred: Expr


@dataclass
class Project:
    """``project a, b = expr``."""

    items: list[Assign]


@dataclass
class ProjectAway:
    """``project-away a, b*``."""

    patterns: list[str]


@dataclass
class ProjectKeep:
    """``project-keep a, b*``."""

    patterns: list[str]


@dataclass
class ProjectReorder:
    """``project-reorder a, b* asc``: (pattern, direction or ``None``) pairs."""

    items: list[tuple[str, str | None]]


@dataclass
class ProjectRename:
    """``project-rename new = old``."""

    pairs: list[tuple[str, str]]


@dataclass
class Extend:
    """``extend a = expr``."""

    items: list[Assign]


@dataclass
class Summarize:
    """``summarize aggs by keys``."""

    aggs: list[Assign]
    by: list[Assign]
    params: dict[str, Any] = field(default_factory=dict)


@dataclass
class Sort:
    """``order by`` / ``sort by``."""

    keys: list[SortKey]


@dataclass
class Take:
    """``take n`` / ``limit n``."""

    count: Expr


@dataclass
class Top:
    """``top n by key``."""

    count: Expr
    key: SortKey


@dataclass
class NestedLevel:
    """One level of ``top-nested [n] of expr [with others = v] by agg [asc|desc]``."""

    count: Expr | None
    of: Assign
    others: Expr | None
    by: Assign
    desc: bool = True


@dataclass
class TopNested:
    """``top-nested`` levels, outermost first."""

    levels: list[NestedLevel]


@dataclass
class Distinct:
    """``distinct a, b = expr`` or ``distinct *`` (``columns`` is ``None``)."""

    columns: list[Assign] | None


@dataclass
class Count:
    """The ``count`` operator."""


@dataclass
class Join:
    """``join kind=... (right) on keys``; keys are ``(left column, right column)`` pairs."""

    params: dict[str, Any]
    right: Expr
    keys: list[tuple[str, str]]


@dataclass
class Lookup:
    """``lookup kind=... (right) on keys``."""

    params: dict[str, Any]
    right: Expr
    keys: list[tuple[str, str]]


@dataclass
class MvItem:
    """One ``mv-expand`` column: ``[name =] expr [to typeof(t)]``."""

    name: str | None
    expr: Expr
    to_type: str | None = None


@dataclass
class MvExpand:
    """``mv-expand [kind=...] [with_itemindex=i] items [limit n]``."""

    params: dict[str, Any]
    items: list[MvItem]
    limit: Expr | None = None


@dataclass
class ParseItem:
    """A ``parse`` pattern element: ``text`` (a literal), ``*`` or a column (``name``, ``type``)."""

    text: str | None = None
    name: str | None = None
    type: str = "string"
    star: bool = False


@dataclass
class Parse:
    """``parse [kind=...] expr with pattern``; ``where`` for ``parse-where``."""

    params: dict[str, Any]
    expr: Expr
    items: list[ParseItem]
    where: bool = False


@dataclass
class Serialize:
    """``serialize [a = expr, ...]``."""

    items: list[Assign]


@dataclass
class Render:
    """``render chart [with (...)]``: the API returns the data unchanged."""

    kind: str


@dataclass
class Evaluate:
    """``evaluate plugin(args)``."""

    name: str
    args: list[Expr]


@dataclass
class Invoke:
    """``invoke function(args)``: the input becomes the function's first (tabular) argument."""

    name: str
    args: list[Expr]


@dataclass
class As:
    """``as Name``: binds the input to a name for the rest of the query."""

    name: str


@dataclass
class GetSchema:
    """``getschema``: the input's columns as rows."""


@dataclass
class Sample:
    """``sample n``."""

    count: Expr


@dataclass
class SampleDistinct:
    """``sample-distinct n of expr``."""

    count: Expr
    expr: Expr


@dataclass
class MakeSeries:
    """``make-series aggs [default=v] on axis from a to b step s by keys``."""

    aggs: list[tuple[Assign, Expr | None]]
    axis: Expr
    start: Expr | None
    end: Expr | None
    step: Expr
    by: list[Assign]


# --- statements -------------------------------------------------------------------------------
@dataclass
class Param:
    """A function parameter: name, KQL type (``"table"`` for a tabular one) and default value."""

    name: str
    type: str
    default: Expr | None = None


@dataclass
class FnDef:
    """``(params) { lets; body }``: a user-defined function from a ``let`` statement."""

    params: list[Param]
    lets: list[Let]
    body: Pipeline


@dataclass
class Let:
    """``let name = value;`` (a pipeline, a scalar or a function)."""

    name: str
    value: Pipeline | FnDef


@dataclass
class Query:
    """A whole query: ``let`` statements and exactly one tabular expression (the result)."""

    lets: list[Let]
    body: Pipeline
