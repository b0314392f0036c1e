"""Graph OData query options for a collection, and the paged answer with ``$skiptoken`` links.

A :class:`Collection` says what one Graph list supports; :func:`parse_query` turns the request's
``$filter``, ``$top``, ``$skip``, ``$count``, ``$orderby``, ``$expand``, ``$select`` and
``$skiptoken`` into a :class:`GraphQuery` (SQL condition and order, offset, page size) or raises a 400
:class:`~mdekit.emulator.graph.errors.GraphError`; :func:`collection_answer` writes the page.

Paging follows Graph's paging guide [GRC:paging]: ``$top`` is the page size; while more items remain
the answer carries an absolute ``@odata.nextLink`` with every original option except ``$skip``,
plus an opaque ``$skiptoken``. The token is bound to its query (other filter or order -> 400) and
carries the absolute offset. Its exact form on the real security endpoints is UNVERIFIED; clients
must follow the link verbatim, which is all this emulator promises.

``$filter`` uses the Defender emulator's parser (:func:`mdekit.emulator.defender.odata.compile_filter`):
a :class:`~mdekit.emulator.defender.odata.Field` column may be any SQL expression, e.g. a ``CASE``
giving stored values their Graph spelling.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Query, Request

from mdekit.emulator.defender.odata import Field, ODataError, compile_filter
from mdekit.emulator.graph.errors import GraphResponse, bad_request

__all__ = [
    "Collection",
    "GraphQuery",
    "collection_answer",
    "context_url",
    "entity_options",
    "list_options",
    "parse_query",
    "project",
]

_OPTIONS = ("$filter", "$top", "$skip", "$count", "$orderby", "$expand", "$select", "$skiptoken")


@dataclass(frozen=True)
class Collection:
    """What one Graph collection supports.

    ``fields``: ``$filter`` properties -> SQL; ``order``: ``$orderby`` properties -> SQL expression;
    ``default_order``: SQL ``ORDER BY`` without ``$orderby`` (ties are broken by ``tiebreak``);
    ``max_top``: the largest ``$top`` (above it: 400); ``page_size``: the page without ``$top``;
    ``expand``: navigation properties ``$expand`` accepts; ``properties``: what ``$select`` may
    name (empty: ``$select`` not supported); ``type_name``: the entity type for messages.
    """

    name: str
    type_name: str
    fields: dict[str, Field]
    order: dict[str, str]
    default_order: str
    max_top: int
    page_size: int
    tiebreak: str = "n DESC"
    expand: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()


@dataclass
class GraphQuery:
    """A parsed list request."""

    where: str = ""
    params: list[Any] = field(default_factory=list)
    order_sql: str = ""
    offset: int = 0
    limit: int = 0
    count: bool = False
    expand: frozenset[str] = frozenset()
    select: tuple[str, ...] = ()
    #: Digest of the options that define the result set (a ``$skiptoken`` is valid for these only).
    digest: str = ""


def _int(name: str, text: str, lowest: int) -> int:
    if not re.fullmatch(r"[0-9]{1,10}", text.strip()) or not lowest <= int(text) <= 2**31 - 1:
        raise bad_request(f"Invalid value '{text}' for query option '{name}'.")
    return int(text)


def _order(coll: Collection, text: str) -> str:
    keys = {k.lower(): (k, v) for k, v in coll.order.items()}
    parts = []
    for item in text.split(","):
        words = item.split()
        if not words or len(words) > 2 or (len(words) == 2 and words[1].lower() not in ("asc", "desc")):
            raise bad_request(f"Invalid $orderby clause '{text}'.")
        found = keys.get(words[0].lower())
        if found is None:
            raise bad_request(
                f"Invalid $orderby: the property '{words[0]}' of {coll.type_name} cannot be sorted."
            )
        parts.append(f"{found[1]} {'DESC' if len(words) == 2 and words[1].lower() == 'desc' else 'ASC'}")
    return ", ".join(parts)


def _names(coll: Collection, option: str, text: str, allowed: tuple[str, ...]) -> list[str]:
    lower = {a.lower(): a for a in allowed}
    out = []
    for raw in (p.strip() for p in text.split(",")):
        if raw.lower() not in lower:
            raise bad_request(
                f"Parsing OData {option} failed: could not find a property named '{raw}' "
                f"on type '{coll.type_name}'."
            )
        out.append(lower[raw.lower()])
    return out


def _digest(options: Mapping[str, str]) -> str:
    keep = {k: options[k] for k in ("$filter", "$orderby", "$top", "$expand", "$select") if k in options}
    return hashlib.sha256(json.dumps(keep, sort_keys=True).encode()).hexdigest()[:12]


def _token(digest: str, offset: int) -> str:
    raw = json.dumps({"q": digest, "o": offset}, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _untoken(text: str, digest: str) -> int:
    try:
        data = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
        offset = data["o"]
        valid = isinstance(offset, int) and offset >= 0 and data["q"] == digest
    except (ValueError, TypeError, KeyError):
        valid = False
    if not valid:
        raise bad_request("Invalid $skiptoken: follow @odata.nextLink exactly as it was returned.")
    return int(offset)


def parse_query(params: Mapping[str, str], coll: Collection) -> GraphQuery:
    """The OData options in *params* for *coll*; raises :class:`GraphError` 400 (``BadRequest``)."""
    options: dict[str, str] = {}
    for key, value in params.items():
        if key.startswith("$"):
            low = key.lower()
            if low not in _OPTIONS:
                raise bad_request(f"Query option '{key}' is not allowed.")
            options[low] = value
    query = GraphQuery(order_sql=coll.default_order, digest=_digest(options))
    if "$filter" in options:
        try:
            query.where, query.params = compile_filter(options["$filter"], coll.fields, coll.name)
        except ODataError as exc:
            raise bad_request(f"Invalid filter clause: {exc}") from None
    if "$orderby" in options:
        query.order_sql = _order(coll, options["$orderby"])
    query.order_sql = f"{query.order_sql}, {coll.tiebreak}"
    query.limit = coll.page_size
    if "$top" in options:
        query.limit = _int("$top", options["$top"], 1)
        if query.limit > coll.max_top:
            raise bad_request(
                f"The limit of '{coll.max_top}' for Top query has been exceeded. "
                f"The value from the incoming request is '{query.limit}'."
            )
    if "$skip" in options:
        query.offset = _int("$skip", options["$skip"], 0)
    if "$skiptoken" in options:
        query.offset = _untoken(options["$skiptoken"], query.digest)
    if "$count" in options:
        if options["$count"].lower() not in ("true", "false"):
            raise bad_request(f"Invalid value '{options['$count']}' for query option '$count'.")
        query.count = options["$count"].lower() == "true"
    if "$expand" in options:
        query.expand = frozenset(_names(coll, "$expand", options["$expand"], coll.expand))
    if "$select" in options:
        query.select = tuple(_names(coll, "$select", options["$select"], coll.properties))
    return query


def _option(name: str, description: str) -> Any:
    return Query(None, alias=name, description=description)


def list_options(
    filter_: str | None = _option("$filter", "OData filter on the collection's documented properties"),
    top: str | None = _option("$top", "Page size (at most the collection's maximum)"),
    skip: str | None = _option("$skip", "Items to skip"),
    count: str | None = _option("$count", "true: add @odata.count"),
    orderby: str | None = _option("$orderby", "Sort: property [asc|desc], ..."),
    expand: str | None = _option("$expand", "Navigation properties to include"),
    select: str | None = _option("$select", "Properties to return"),
    skiptoken: str | None = _option("$skiptoken", "Paging token from @odata.nextLink"),
) -> None:
    """Declares a list's OData options for the OpenAPI description (``Depends(list_options)``);
    :func:`parse_query` reads them from the request."""


def entity_options(
    expand: str | None = _option("$expand", "Navigation properties to include"),
    select: str | None = _option("$select", "Properties to return"),
) -> None:
    """Declares an entity's OData options (``$expand``, ``$select``) for the OpenAPI description."""


def context_url(request: Request, fragment: str) -> str:
    """``https://<Host>/v1.0/$metadata#<fragment>`` (the host the caller used)."""
    host = request.headers.get("host") or "graph.microsoft.com"
    return f"https://{host}/v1.0/$metadata#{fragment}"


def _next_link(request: Request, query: GraphQuery, offset: int) -> str:
    params = {k: v for k, v in request.query_params.items() if k.lower() not in ("$skip", "$skiptoken")}
    params["$skiptoken"] = _token(query.digest, offset)
    host = request.headers.get("host") or "graph.microsoft.com"
    return f"https://{host}{request.url.path}?{urlencode(params, safe='$')}"


def project(item: dict[str, Any], select: tuple[str, ...]) -> dict[str, Any]:
    """*item* reduced to ``@odata.type``, ``id`` and the ``$select`` properties (all when empty)."""
    if not select:
        return item
    keep = {"@odata.type", "id", *select}
    return {k: v for k, v in item.items() if k in keep}


def collection_answer(
    request: Request,
    fragment: str,
    items: list[dict[str, Any]],
    query: GraphQuery,
    *,
    more: bool,
    total: int | None = None,
) -> GraphResponse:
    """``{"@odata.context", ["@odata.count"], ["@odata.nextLink"], "value"}`` for one page.

    ``@odata.count`` (with ``$count=true``) is the whole result's size, on every page.
    """
    body: dict[str, Any] = {"@odata.context": context_url(request, fragment)}
    if query.count and total is not None:
        body["@odata.count"] = total
    if more:
        body["@odata.nextLink"] = _next_link(request, query, query.offset + len(items))
    body["value"] = [project(i, query.select) for i in items]
    return GraphResponse(body)
