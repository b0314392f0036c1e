"""The KQL syntax tree: plain dataclasses produced by :mod:`.parser`, consumed by :mod:`.compiler`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = [
    "Assign",
    "Between",
    "BinOp",
    "Call",
    "Col",
    "Count",
    "Distinct",
    "Expr",
    "Extend",
    "In",
    "Index",
    "Join",
    "Let",
    "Lit",
    "Member",
    "Neg",
    "Op",
    "Pipeline",
    "Project",
    "ProjectAway",
    "ProjectRename",
    "Query",
    "Sort",
    "SortKey",
    "Star",
    "Summarize",
    "Take",
    "Top",
    "Union",
    "Where",
]


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
    """``*`` as a function argument (``arg_max(Timestamp, *)``)."""


@dataclass
class Call:
    """A function call ``name(args)``."""

    name: str
    args: list[Expr]
    line: int = 0
    column: int = 0


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
    """A binary operator: arithmetic, comparison, ``and``/``or``, string operators, ``matches regex``."""

    op: str
    left: Expr
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


@dataclass
class Pipeline:
    """``source | op | op ...``; a pipeline without operators around a scalar is just that scalar."""

    source: Expr | Union
    ops: list[Op] = field(default_factory=list)


@dataclass
class Assign:
    """``name = expr`` or a bare ``expr`` in project/extend/summarize lists."""

    name: str | None
    expr: Expr


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
class Distinct:
    """``distinct a, b`` or ``distinct *`` (``columns`` is ``None``)."""

    columns: list[str] | None


@dataclass
class Count:
    """The ``count`` operator."""


@dataclass
class Join:
    """``join kind=... (right) on keys``; keys are ``(left column, right column)`` pairs."""

    params: dict[str, str]
    right: Expr
    keys: list[tuple[str, str]]


@dataclass
class Union:
    """``union [withsource=Name] a, b``."""

    params: dict[str, str]
    items: list[Expr]


@dataclass
class Let:
    """``let name = value;``."""

    name: str
    value: Pipeline


@dataclass
class Query:
    """A whole query: ``let`` statements and exactly one tabular expression (the result)."""

    lets: list[Let]
    body: Pipeline


#: Any expression node above (kept as ``Any``: a long union alias would add nothing for mypy here).
Expr = Any
#: Any tabular operator node above.
Op = Any
