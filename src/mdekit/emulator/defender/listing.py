"""List queries: the OData options parsed, and run against one tenant's table.

``$filter`` (on the list's documented properties), ``$orderby`` (the same properties, ``asc``/``desc``,
several keys), ``$top``, ``$skip``, ``$count=true``, ``$select`` (any property of the entity type,
:mod:`mdekit.emulator.defender.select`) and ``$expand`` (where the list has one). A ``/$count``
path segment asks for the number alone (``count_only``).

Paging (service-facts §5.2): at most ``page_size`` items per answer; without ``$top`` a longer
result gets ``@odata.nextLink`` (``$skip`` advanced, other options kept); with ``$top`` never.
The link also carries a ``$skiptoken`` (:class:`Cursors`): the last item's rowid and, with
``$orderby``, its sort keys, signed, so the next page seeks straight past it (an index range)
instead of counting ``$skip`` rows from the start - every page of a 1,000,000-alert listing costs
the same (issue 19). ``$skip`` alone still pages by position, exactly (an OFFSET, walking an index
where one covers the filter and the order), or seeks from where the previous page by ``$skip``
ended when nothing was written since (:class:`_Positions`).

Ties in ``$orderby`` keep insertion (rowid) order in the direction of the last key: ``x desc`` is
exactly the reverse of ``x``, so an index on ``x`` serves both by a scan, forward or backward.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import sqlite3
import weakref
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mdekit.emulator.db import Database
from mdekit.emulator.defender.edm import StructuredType, item_type
from mdekit.emulator.defender.jsonio import dumps, loads
from mdekit.emulator.defender.odata import Field, ODataError, check_option_names, compile_filter
from mdekit.emulator.defender.sas import signing_key
from mdekit.emulator.defender.select import parse_select
from mdekit.emulator.defender.tenantkeys import tenant_cond

__all__ = [
    "KNOWN_OPTIONS",
    "Cursors",
    "ListQuery",
    "Page",
    "order_sql",
    "parse_list_query",
    "run_list",
]

T = TypeVar("T")

PAGE_SIZE = 10_000
#: The OData system query options the MDE API answers (others: 400, :func:`check_option_names`).
KNOWN_OPTIONS = frozenset({"$filter", "$top", "$skip", "$expand", "$select", "$orderby", "$count", "$format"})
#: A list also takes the keyset ``$skiptoken`` its own ``@odata.nextLink`` carries.
_KNOWN = KNOWN_OPTIONS | {"$skiptoken"}
#: ``$format`` values a JSON answer satisfies (OData 4.0 §11.2.10; UNVERIFIED that the service
#: accepts the option, accepting it is the lenient choice).
_JSON_FORMATS = ("json", "application/json")


@dataclass
class ListQuery:
    """A parsed list request: SQL condition + params, paging, ordering, projection, counting.

    ``total`` is filled by the store when ``count`` was asked (``@odata.count``, ``/$count``).
    """

    where: str = ""
    params: list[Any] = field(default_factory=list)
    top: int | None = None
    skip: int = 0
    expand: str | None = None
    select: tuple[str, ...] | None = None
    #: ``$orderby`` keys: (SQL column expression, descending).
    order: list[tuple[str, bool]] = field(default_factory=list)
    count: bool = False
    count_only: bool = False
    total: int | None = None
    #: ``$skiptoken`` as sent (checked by :meth:`Cursors.open`, which sets ``after``).
    skiptoken: str | None = None
    #: Keyset paging: only rows after this rowid (and, with ``$orderby``, these sort keys).
    after: int | None = None
    after_keys: tuple[Any, ...] = ()
    #: The page's last rowid and sort keys (the next page's cursor), set by :func:`run_list`.
    last: int | None = None
    last_keys: tuple[Any, ...] = ()


@dataclass
class Page:
    """One answer's items and whether more remain after them (for ``@odata.nextLink``)."""

    items: list[dict[str, Any]]
    more: bool
    next_skip: int


def _int_option(name: str, text: str) -> int:
    # ASCII digits only: str.isdigit() accepts '²', which int() refuses (a 500 before)
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()):
        raise ODataError(f"Invalid value '{text}' for {name}: expected a non-negative integer")
    # the length first: int() refuses over 4,300 digits (a ValueError, a 500 before)
    if len(digits.lstrip("0")) > 10 or int(digits) > 2**31 - 1:
        raise ODataError(f"Invalid value '{text}' for {name}: the value is too large")
    return int(text)


def parse_list_query(
    params: Mapping[str, str],
    fields: dict[str, Field],
    set_name: str,
    *,
    max_top: int = PAGE_SIZE,
    expand: tuple[str, ...] = (),
    count_only: bool = False,
) -> ListQuery:
    """Parse the OData options in *params* (raises :class:`ODataError`).

    *fields* are the properties ``$filter`` and ``$orderby`` accept; ``$select`` accepts any
    property of the items' type (from *set_name*, the context fragment). *count_only*: the request
    is the list's ``/$count`` segment (only ``$filter`` matters; no items are read).
    """
    query = ListQuery()
    check_option_names(params, _KNOWN)
    lowered = {k.lower(): v for k, v in params.items()}
    entity = item_type(set_name)
    if "$filter" in lowered:
        query.where, query.params = compile_filter(lowered["$filter"], fields, set_name)
    if "$top" in lowered:
        query.top = _int_option("$top", lowered["$top"])
        if query.top > max_top:
            raise ODataError(
                f"The limit of '{max_top}' for Top query has been exceeded. "
                f"The value from the incoming request is '{query.top}'."
            )
    if "$skip" in lowered:
        query.skip = _int_option("$skip", lowered["$skip"])
    if "$expand" in lowered:
        value = lowered["$expand"].strip()
        if value.lower() not in {e.lower() for e in expand}:
            raise ODataError(f"Invalid $expand '{value}' on {set_name}")
        query.expand = value.lower()
    if "$select" in lowered:
        query.select = parse_select(lowered["$select"], entity, set_name)
    if "$orderby" in lowered:
        query.order = _order(lowered["$orderby"], fields, entity, set_name)
    if "$count" in lowered:
        query.count = _bool_option("$count", lowered["$count"])
    if "$skiptoken" in lowered:
        query.skiptoken = lowered["$skiptoken"]
    if lowered.get("$format", "json").strip().lower() not in _JSON_FORMATS:
        raise ODataError(f"The $format '{lowered['$format']}' is not supported; only json is")
    if count_only:  # /$count: the number of matching items, nothing else read
        query.count, query.count_only = True, True
        query.top, query.skip, query.select, query.order = 0, 0, None, []
    return query


def _bool_option(name: str, text: str) -> bool:
    value = text.strip().lower()
    if value not in ("true", "false"):
        raise ODataError(f"'{text}' is not a valid count option.")  # the OData library's wording
    return value == "true"


def _order(
    text: str, fields: dict[str, Field], entity: StructuredType | None, set_name: str
) -> list[tuple[str, bool]]:
    """``$orderby`` *text* as (column, descending) keys over the list's documented properties."""
    by_name = {k.lower(): f for k, f in fields.items()}
    keys: list[tuple[str, bool]] = []
    for part in text.split(","):
        words = part.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise ODataError(f"Syntax error in $orderby '{text}': expected 'property [asc|desc]'")
        name = words[0]
        found = by_name.get(name.lower())
        if found is None or found.kind == "tags":
            if entity is not None and entity.find(name) is None:
                raise ODataError(f"Could not find a property named '{name}' on type '{entity.qualified}'.")
            raise ODataError(f"The property '{name}' cannot be used in the $orderby query option.")
        keys.append((found.column, len(words) == 2 and words[1].lower() == "desc"))
    return keys


def order_sql(query: ListQuery, tiebreak: str) -> str:
    """The ``ORDER BY`` list for *query*: its ``$orderby`` keys, then *tiebreak* (stable paging)."""
    keys = [f"{column} {'DESC' if desc else 'ASC'}" for column, desc in query.order]
    return ", ".join([*keys, tiebreak])


#: SQLite's own limits a filter within ours could still reach (older builds allow fewer variables).
_SQLITE_LIMITS = ("parser stack overflow", "too large", "too many sql variables", "too complex")


def _guarded(run: Callable[[str, Any], T], sql: str, params: Any) -> T:
    """Run a list query; a filter SQLite finds too big or too deep is a 400 ``ODataError``, not a 500."""
    try:
        return run(sql, params)
    except sqlite3.OperationalError as exc:
        if any(text in str(exc).lower() for text in _SQLITE_LIMITS):
            raise ODataError(f"The $filter expression is too complex: {exc}") from None
        raise


def run_list(
    db: Database,
    table: str,
    tenant: str,
    query: ListQuery,
    *,
    extra_where: str = "",
    extra_params: tuple[Any, ...] = (),
    columns: str = "data",
    page_size: int = PAGE_SIZE,
) -> tuple[list[Any], bool]:
    """Rows of *table* for *tenant* matching *query* in its ``$orderby`` order (then insertion
    order, in the last key's direction); and whether more follow. Sets ``query.total`` when
    ``$count`` was asked, and ``query.last``/``query.last_keys`` (the last row's rowid and sort
    keys: the next page's cursor). Each row ends with the sort keys (``_k0``, ...)."""
    conds = [tenant_cond(table)]
    params: list[Any] = [tenant]
    if extra_where:
        conds.append(extra_where)
        params.extend(extra_params)
    if query.where:
        conds.append(f"({query.where})")
        params.extend(query.params)
    where = " AND ".join(conds)
    if query.count:
        row = _guarded(db.query_one, f"SELECT COUNT(*) AS c FROM {table} WHERE {where}", tuple(params))
        query.total = int(row["c"]) if row else 0
    if query.top == 0:
        return [], False
    limit = query.top if query.top is not None else page_size + 1
    if not _HAS_N.search(columns):
        columns = f"{columns}, n"
    keys = "".join(f", {column} AS _k{i}" for i, (column, _) in enumerate(query.order))
    order = order_sql(query, f"n {'DESC' if _tie_desc(query) else 'ASC'}")
    shape = (table, tenant, extra_where, extra_params, query.where, tuple(query.params), tuple(query.order))
    with db.lock:  # no write between reading a remembered position and using it
        positions = _positions(db)
        after, after_keys, offset = query.after, query.after_keys, query.skip
        if after is None and offset:
            # $skip alone: from a position a page by $skip ended at, if nothing changed since
            after, after_keys = positions.get(shape, offset) or (None, ())
        if after is None:
            inner = f"SELECT n FROM {table} WHERE {where} ORDER BY {order} LIMIT ? OFFSET ?"
            inner_params = [*params, limit, offset]
        else:
            inner, inner_params = _seek_rowids(table, where, params, order, query, (after, after_keys), limit)
        # Deferred join: page the rowids first (a covering index, a sort of small keys), then fetch
        # only the page's rows - sorting whole rows for ``$skip=90000`` took four times longer. No
        # LIMIT on this outer part: SQLite's bounded sort made it three times slower (same plan);
        # a NULL tail's extra rows are cut off here instead.
        sql = f"SELECT {columns}{keys} FROM {table} WHERE n IN ({inner}) ORDER BY {order}"
        rows = _guarded(db.query, sql, inner_params)[:limit]
        more = query.top is None and len(rows) > page_size
        rows = rows[:page_size]
        if rows:
            last = tuple(rows[-1])
            query.last = int(rows[-1]["n"])
            query.last_keys = last[len(last) - len(query.order) :] if query.order else ()
            if query.after is None:  # a position by $skip is exact; a cursor's may have moved since
                positions.put(shape, query.skip + len(rows), (query.last, query.last_keys))
    return rows, more


def _seek_rowids(
    table: str,
    where: str,
    params: list[Any],
    order: str,
    query: ListQuery,
    cursor: tuple[int, tuple[Any, ...]],
    limit: int,
) -> tuple[str, list[Any]]:
    """The page's rowids after *cursor* (rowid, sort keys): a keyset seek, no rows counted off;
    then, for a descending key, the rows where it is NULL (see :func:`seek_sql`)."""
    seek, seek_params, tail = seek_sql(query.order, cursor[1], cursor[0])
    inner = f"SELECT n FROM {table} WHERE {where} AND {seek} ORDER BY {order} LIMIT ?"
    inner_params = [*params, *seek_params, limit]
    if tail:
        inner = (
            f"SELECT n FROM ({inner}) UNION ALL SELECT n FROM (SELECT n FROM {table} "
            f"WHERE {where} AND {tail} ORDER BY {order} LIMIT ?)"
        )
        inner_params += [*params, limit]
    return inner, inner_params


class _Positions:
    """Where recent pages by ``$skip`` ended: (list shape, position) -> the last row's rowid and
    sort keys, so a client paging by ``$skip`` (0, 10000, 20000, ...) seeks from where its last
    page ended instead of counting every row from the start (an OFFSET, linear in the depth).

    Valid while the data file is unchanged: any insert, update or delete through its connection
    (``total_changes``; the file is this process's alone) forgets them all, so a remembered
    position never gives a shifted or stale page.
    """

    _SIZE = 1024

    def __init__(self) -> None:
        self.version: tuple[int, int] = (0, -1)
        self.known: OrderedDict[tuple[Any, ...], tuple[int, tuple[Any, ...]]] = OrderedDict()

    def check(self, version: tuple[int, int]) -> _Positions:
        if version != self.version:
            self.version = version
            self.known.clear()
        return self

    def get(self, shape: tuple[Any, ...], skip: int) -> tuple[int, tuple[Any, ...]] | None:
        found = self.known.get((shape, skip))
        if found is not None:
            self.known.move_to_end((shape, skip))
        return found

    def put(self, shape: tuple[Any, ...], skip: int, cursor: tuple[int, tuple[Any, ...]]) -> None:
        self.known[(shape, skip)] = cursor
        if len(self.known) > self._SIZE:
            self.known.popitem(last=False)


_POSITIONS: weakref.WeakKeyDictionary[Database, _Positions] = weakref.WeakKeyDictionary()


def _positions(db: Database) -> _Positions:
    """*db*'s remembered positions, forgotten if anything was written since (call under ``db.lock``)."""
    positions = _POSITIONS.get(db)
    if positions is None:
        positions = _POSITIONS[db] = _Positions()
    return positions.check((id(db.conn), db.conn.total_changes))


def _tie_desc(query: ListQuery) -> bool:
    """Whether ties go by descending rowid: they follow the last ``$orderby`` key's direction."""
    return bool(query.order) and query.order[-1][1]


def seek_sql(
    order: list[tuple[str, bool]], values: tuple[Any, ...], after: int
) -> tuple[str, list[Any], str]:
    """The condition "after the row with sort keys *values* and rowid *after*" in the order
    *order* then ``n`` (ties in the last key's direction; SQLite's NULLs sort first), and a second
    condition for the rows that follow those (``""`` if none: see below).

    Keys all ascending and no NULL cursor value: one row-value comparison with a bound on the first
    key, which an index on that key turns into a range (rows with a NULL key sort before the
    cursor and fail the comparison, as they should). One descending key, not NULL: the same range
    downwards, and the NULL rows, which come after every other in that order, as the second
    condition (a range of their own; an ``OR`` would make SQLite walk the index from the top).
    Otherwise the lexicographic expansion (any directions and NULLs; a filtered walk).
    """
    tie = ("n", bool(order) and order[-1][1])
    keys = [*order, tie]
    vals = [*values, after]
    if len(values) != len(order):
        raise ODataError("The $skiptoken is not valid for this request")
    directions = {desc for _, desc in keys}
    if all(v is not None for v in vals) and (
        directions == {False} or (len(keys) == 2 and directions == {True})
    ):
        op = "<" if tie[1] else ">"
        if len(keys) == 1:
            return f"n {op} ?", [after], ""
        columns = ", ".join(column for column, _ in keys)
        marks = ", ".join("?" * len(keys))
        seek = f"{keys[0][0]} {op}= ? AND ({columns}) {op} ({marks})"
        return seek, [vals[0], *vals], f"{keys[0][0]} IS NULL" if tie[1] else ""
    terms: list[str] = []
    params: list[Any] = []
    for i, ((column, desc), value) in enumerate(zip(keys, vals, strict=True)):
        equal: list[str] = []
        for (col, _), val in zip(keys[:i], vals[:i], strict=True):
            if val is None:
                equal.append(f"{col} IS NULL")
            else:
                equal.append(f"{col} = ?")
                params.append(val)
        beyond = _beyond(column, desc, value, params)
        terms.append(" AND ".join([*equal, beyond]))
    return "(" + " OR ".join(f"({t})" for t in terms) + ")", params, ""


def _beyond(column: str, desc: bool, value: Any, params: list[Any]) -> str:
    """*column* strictly after *value* in its direction (NULLs first ascending, last descending)."""
    if value is None:
        return "0" if desc else f"{column} IS NOT NULL"
    params.append(value)
    return f"({column} < ? OR {column} IS NULL)" if desc else f"{column} > ?"


_HAS_N = re.compile(r"(^|[\s,.])n(\s*,|\s*$)")


class Cursors:
    """Signs and opens ``$skiptoken`` cursors: ``base64(JSON [rowid, skip, *sort keys]).signature``
    (``base64(rowid.skip)`` in the default order, as earlier links were).

    The HMAC (a key kept in the data file, so links survive a restart) covers the cursor, the
    ``$skip`` the link carries, the tenant, the path and every other option of the request, so a
    cursor cannot be forged, edited or moved to another query; such a token is a 400 ``ODataError``.
    """

    def __init__(self, db: Database, meta_key: str = "defender_cursor_key") -> None:
        self._key = signing_key(db, meta_key)

    def _sign(self, binding: str, payload: str) -> str:
        mac = hmac.new(self._key, f"{binding}\n{payload}".encode(), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(mac[:18]).decode()

    @staticmethod
    def _payload(text: str) -> str:
        # the default order's form is signed as it always was, so earlier links still open
        return text if text.startswith("[") else text.replace(".", "\n", 1)

    def issue(self, binding: str, after: int, skip: int, keys: tuple[Any, ...] = ()) -> str:
        """The token for the page after the row with rowid *after* (and sort *keys*), at position *skip*."""
        text = dumps([after, skip, *keys]) if keys else f"{after}.{skip}"
        body = base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")
        return f"{body}.{self._sign(binding, self._payload(text))}"

    def open(self, token: str, binding: str, skip: int) -> tuple[int, tuple[Any, ...]]:
        """The rowid and sort keys *token* continues after; :class:`ODataError` unless it was
        issued for this *binding* and *skip*."""
        body, _, sig = token.partition(".")
        try:
            text = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)).decode()
            values = loads(text) if text.startswith("[") else [int(part) for part in text.split(".")]
            after, issued_skip, keys = int(values[0]), int(values[1]), tuple(values[2:])
        except (ValueError, IndexError, TypeError):  # binascii.Error and orjson's error are ValueErrors
            raise ODataError("The $skiptoken is not valid for this request") from None
        expected = self._sign(binding, self._payload(text)).encode()
        if issued_skip != skip or not hmac.compare_digest(sig.encode(), expected):
            raise ODataError("The $skiptoken is not valid for this request")
        return after, keys


def count(
    db: Database, table: str, tenant: str, query: ListQuery, extra_where: str, extra: tuple[Any, ...]
) -> int:
    """How many rows match (for ``/$count``)."""
    conds = [tenant_cond(table), extra_where] + ([f"({query.where})"] if query.where else [])
    row = _guarded(
        db.query_one,
        f"SELECT COUNT(*) AS c FROM {table} WHERE {' AND '.join(conds)}",
        (tenant, *extra, *query.params),
    )
    return int(row["c"]) if row else 0


def decode(rows: list[Any], column: str = "data") -> list[dict[str, Any]]:
    """JSON entity dicts from *rows*."""
    return [loads(r[column]) for r in rows]
