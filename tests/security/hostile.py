"""Hypothesis strategies for hostile input the OpenAPI description does not suggest (issue 13).

Long and deep ``$filter`` expressions (id lists of hundreds of terms, chains of ``and``/``not``,
parentheses past the documented depth) and JSON bodies nested far deeper than any real one. They
plug into schemathesis as schema-local hooks (:func:`install`), so generated cases mix them with
the schema's own.
"""

from __future__ import annotations

import json
from typing import Any

from hypothesis import strategies as st

__all__ = ["FILTER_EXAMPLES", "deep_bodies", "install", "long_filters"]

_PROPS = ["id", "Id", "status", "severity", "computerDnsName", "lastSeen", "healthStatus", "riskScore",
          "machineTags", "alertCreationTime", "indicatorValue", "rbacGroupId", "bogus"]  # fmt: skip
_OPS = ["eq", "ne", "gt", "ge", "lt", "le", "in", "has"]
_FUNCS = ["startswith", "endswith", "contains", "substringof", "tolower"]
_SPECIAL = ["null", "true", "false", "2018-08-01Z", "2019-11-22T00:00:00Z", "9999-99-99", "1e999", "''''"]
_TEXT = st.text(max_size=12)
_VALUES = st.one_of(
    _TEXT.map(lambda t: "'" + t.replace("'", "''") + "'"),
    _TEXT.map(lambda t: f"'{t}'"),  # quotes left unescaped
    st.integers(-(2**70), 2**70).map(str),
    st.sampled_from(_SPECIAL),
)


@st.composite
def _terms(draw: st.DrawFn) -> str:
    prop = draw(st.sampled_from(_PROPS))
    if draw(st.integers(0, 4)) == 0:
        return f"{draw(st.sampled_from(_FUNCS))}({prop},{draw(_VALUES)})"
    return f"{prop} {draw(st.sampled_from(_OPS))} {draw(_VALUES)}"


#: Shapes every run tries (the drawn ones vary less than their range suggests).
FILTER_EXAMPLES = [
    " or ".join(f"id eq '{i:040x}'" for i in range(1_000)),  # a client's id list
    " and ".join(f"id ne '{i:040x}'" for i in range(1_000)),
    " or ".join(["startswith(id,'a')"] * 1_000),  # no IN list possible
    " and ".join(["not startswith(id,'a')"] * 500),
    "not " * 501 + "id eq 'a'",
    "(" * 32 + "id eq 'a'" + ")" * 32,
    "not (" * 33 + "id eq 'a'" + ")" * 33,
    "(" * 5_000 + "id eq 'a'" + ")" * 5_000,
]


@st.composite
def long_filters(draw: st.DrawFn) -> str:
    """A ``$filter`` of up to 1,500 terms, nested up to 200 levels (cheap to draw: terms repeat).

    Half are well formed (an id list as real clients build them, which reaches SQLite), half mix
    in arbitrary properties, operators and values (refused by the parser).
    """
    count = draw(st.sampled_from([2, 70, 150, 1_000, 1_500]))
    if draw(st.booleans()):
        op = draw(st.sampled_from(["eq", "ne"]))
        parts = [f"id {op} '{i:040x}'" for i in range(count)]
    else:
        templates = draw(st.lists(_terms(), min_size=1, max_size=5))
        parts = [templates[i % len(templates)] for i in range(count)]
    text = draw(st.sampled_from([" or ", " and ", " or not ", " and not "])).join(parts)
    depth = draw(st.sampled_from([0, 1, 8, 31, 32, 33, 200]))
    opener = draw(st.sampled_from(["(", "not (", "(not "]))
    nots = draw(st.sampled_from([0, 1, 2, 501]))
    return "not " * nots + opener * depth + text + ")" * depth


@st.composite
def deep_bodies(draw: st.DrawFn, body: Any) -> Any:
    """*body* nested 2 to 400 levels deep, whole or as one of its properties."""
    depth = draw(st.sampled_from([2, 31, 33, 100, 400]))
    as_list = draw(st.booleans())
    value = body
    for _ in range(depth):
        value = [value] if as_list else {"a": value}
    if isinstance(body, dict) and draw(st.booleans()):
        key = draw(st.sampled_from(sorted(body) or ["x"]))
        return {**body, key: value}
    return value


def _has_filter(ctx: Any) -> bool:
    return any(p.name == "$filter" for p in ctx.operation.iter_parameters())


def install(schema: Any) -> None:
    """Mix the strategies above into *schema*'s generated cases (this schema only)."""

    @schema.hook
    def flatmap_query(ctx: Any, query: Any) -> Any:
        if not isinstance(query, dict) or not _has_filter(ctx):
            return st.just(query)
        return st.one_of(st.just(query), long_filters().map(lambda text: {**query, "$filter": text}))

    @schema.hook
    def flatmap_body(ctx: Any, body: Any) -> Any:
        try:
            json.dumps(body)
        except (TypeError, ValueError):  # a negative case's raw bytes: not JSON to nest
            return st.just(body)
        return st.one_of(st.just(body), deep_bodies(body))
