"""Helpers shared by the Defender route modules: state access, list options, body validation.

Every MDE list answers the same OData options through :func:`list_options` and
:func:`list_answer` (stored lists) or :func:`collection_answer` (small lists computed per request),
and :func:`count_route` gives a list its ``/$count`` twin.
"""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import PlainTextResponse, Response

from mdekit.catalog import operation
from mdekit.emulator.bodies import InvalidJson, parse_json
from mdekit.emulator.defender.edm import item_type
from mdekit.emulator.defender.listing import PAGE_SIZE, ListQuery, parse_list_query
from mdekit.emulator.defender.odata import Field, ODataError
from mdekit.emulator.defender.sas import SasError
from mdekit.emulator.defender.select import project, select_fragment
from mdekit.emulator.defender.store import DefenderStore
from mdekit.emulator.defender.tvm.listing import fields_of, filter_items
from mdekit.emulator.defender.wire import ApiFailure, bad_request, odata_collection

__all__ = [
    "COUNT",
    "ERRORS",
    "ORDERBY",
    "SELECT",
    "Prop",
    "body_schema",
    "check_body",
    "collection_answer",
    "count_route",
    "list_answer",
    "list_options",
    "read_body",
    "storage_error",
    "store",
]

#: Error answers every Defender operation may give (for the OpenAPI description).
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {
        "description": "Bad request (InvalidInput, InvalidRequestBody, MissingRequiredParameter, ODataError)"
    },
    401: {"description": "Unauthorized: missing, malformed, expired or foreign token"},
    403: {"description": "Forbidden: token for another resource or without the required role"},
    404: {"description": "ResourceNotFound"},
    429: {"description": "TooManyRequests (Retry-After header, seconds)"},
}

FILTER = Query(None, alias="$filter", description="OData filter on the documented properties")
TOP = Query(None, alias="$top", description="Maximum items (≤ 10,000)")
SKIP = Query(None, alias="$skip", description="Items to skip")
SELECT = Query(None, alias="$select", description="Properties to return (comma-separated)")
ORDERBY = Query(None, alias="$orderby", description="Sort keys: 'property [asc|desc]', comma-separated")
COUNT = Query(None, alias="$count", description="true: add @odata.count (the matching items)")


def store(request: Request) -> DefenderStore:
    """The Defender store of the app serving *request*."""
    defender: DefenderStore = request.app.state.emu.defender
    return defender


def _count_segment(request: Request) -> bool:
    return request.url.path.endswith("/$count")


def list_options(request: Request, fields: dict[str, Field], set_name: str, **kw: Any) -> ListQuery:
    """Parse the list's OData options; 400 ``ODataError`` when invalid (see :mod:`..listing`),
    a ``$skiptoken`` included."""
    try:
        query = parse_list_query(
            dict(request.query_params), fields, set_name, count_only=_count_segment(request), **kw
        )
        if query.skiptoken is not None:
            opened = store(request).cursors.open(query.skiptoken, _binding(request), query.skip)
            query.after, query.after_keys = opened
    except ODataError as exc:
        raise bad_request("ODataError", str(exc)) from None
    return query


def _binding(request: Request) -> str:
    """What a ``$skiptoken`` is bound to: the tenant, the path and every option but the position."""
    options = sorted((k.lower(), v) for k, v in request.query_params.items() if k.lower() not in _POSITION)
    return f"{getattr(request.state, 'tenant_id', '')}\n{request.url.path}\n{options}"


_POSITION = ("$skip", "$skiptoken")


def count_answer(total: int) -> PlainTextResponse:
    """A ``/$count`` answer: the bare number as ``text/plain`` (the OData 4.0 rule for ``$count``
    segments; the docs' example shows the body ``4`` only, its content type is UNVERIFIED)."""
    return PlainTextResponse(str(total), headers={"OData-Version": "4.0"})


def list_answer(request: Request, set_name: str, query: ListQuery, items: list[Any], more: bool) -> Any:
    """The collection envelope: ``$select`` applied, ``@odata.count`` when asked, and
    ``@odata.nextLink`` when a page without ``$top`` is not the last (or the bare number for ``/$count``)."""
    if query.count_only:
        return count_answer(query.total or 0)
    link = None
    if more:
        params = {k: v for k, v in request.query_params.items() if k.lower() not in _POSITION}
        skip = query.skip + len(items)
        params["$skip"] = str(skip)
        if query.last is not None:  # stored lists: a keyset cursor too
            params["$skiptoken"] = store(request).cursors.issue(
                _binding(request), query.last, skip, query.last_keys
            )
        host = request.headers.get("host") or "api.securitycenter.microsoft.com"
        link = f"https://{host}{request.url.path}?{urlencode(params, safe='$')}"
    if query.select is not None:
        # An expanded property not selected is left out, as a real answer to check_msdefender's
        # $expand=evidence&$select=status,title,... shows (anchor A13: no evidence in its items).
        items = [project(item, query.select) for item in items]
    count = query.total if query.count else None
    fragment = select_fragment(set_name, query.select, _option(request, "$select"))
    return odata_collection(request, fragment, items, link, count)


def _option(request: Request, name: str) -> str | None:
    """Query option *name* (matched case-insensitively), as sent."""
    return next((v for k, v in request.query_params.items() if k.lower() == name), None)


def collection_answer(
    request: Request,
    set_name: str,
    items: Iterable[Mapping[str, Any]],
    fields: dict[str, Field] | None = None,
    *,
    max_top: int = PAGE_SIZE,
) -> Any:
    """A list computed for this request (a machine's logon users, an alert's files, TVM lists...),
    answered with every OData option the stored lists take, applied in memory.

    *fields*: the documented ``$filter``/``$orderby`` properties; by default every primitive
    property of the items' type (where no page documents any, accepting them is the lenient choice).
    """
    if fields is None:
        entity = item_type(set_name)
        fields = fields_of([(p.name, p.type) for p in entity.properties]) if entity else {}
    query = list_options(request, fields, set_name, max_top=max_top)
    page, more = filter_items(list(items), fields, query, page_size=max_top)
    return list_answer(request, set_name, query, list(page), more)


def count_route(router: APIRouter, endpoint: Callable[..., Any], op_name: str) -> None:
    """Serve list *endpoint* again at catalogue operation *op_name*'s path (its ``/$count`` segment).

    The twin runs the same handler (so the same ``$filter`` rules), checked against *op_name*'s
    roles; :func:`list_options` sees the ``/$count`` path and :func:`list_answer` answers the number.
    Register it before the list's ``/{id}`` route, which would otherwise take ``$count`` as an id.
    """
    from mdekit.emulator.defender.auth import require

    op = operation(op_name)
    signature = inspect.signature(endpoint)
    params = [
        p.replace(default=Depends(require(op_name))) if p.name == "caller" else p
        for p in signature.parameters.values()
    ]

    def counted(**kwargs: Any) -> Any:
        return endpoint(**kwargs)

    counted.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]
    counted.__name__ = op_name.replace(".", "_")
    router.add_api_route(
        op.path,
        counted,
        methods=["GET"],
        operation_id=counted.__name__,
        summary=f"How many: {op.path.removesuffix('/$count')}",
        response_class=PlainTextResponse,
    )


@dataclass(frozen=True)
class Prop:
    """A body property: JSON type, whether required, allowed values (enums) and a custom check."""

    type: str = "string"  # string, boolean, integer, array, object, any (JSON type not checked)
    required: bool = False
    values: tuple[str, ...] = ()
    items: str = "string"
    nullable: bool = False
    check: Callable[[Any], str | None] | None = field(default=None, compare=False)


_PY: dict[str, Any] = {
    "string": str,
    "boolean": bool,
    "integer": int,
    "array": list,
    "object": dict,
    "any": object,
}


def body_schema(props: dict[str, Prop]) -> dict[str, Any]:
    """``openapi_extra`` describing a JSON body built from *props*."""
    properties: dict[str, Any] = {}
    for name, p in props.items():
        spec: dict[str, Any] = {} if p.type == "any" else {"type": p.type}
        if p.type == "array":
            spec["items"] = {"type": p.items}
        if p.values:
            spec["enum"] = list(p.values)
        properties[name] = spec
    schema = {
        "type": "object",
        "properties": properties,
        "required": [n for n, p in props.items() if p.required],
    }
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": schema}}}}


async def read_body(request: Request, props: dict[str, Prop]) -> dict[str, Any]:
    """The JSON body checked against *props*: names are case-sensitive, enums exact (service-facts §3.2)."""
    try:
        body = parse_json(await request.body() or b"null")
    except InvalidJson as exc:
        raise bad_request("InvalidRequestBody", f"Request body is incorrect: {exc}") from None
    return check_body(body, props)


def check_body(body: Any, props: dict[str, Prop]) -> dict[str, Any]:
    """*body* checked against *props* (see :func:`read_body`); returns a copy without nulls."""
    if not isinstance(body, dict):
        raise bad_request("InvalidRequestBody", "Request body is incorrect: expected a JSON object")
    body = dict(body)
    lower = {n.lower(): n for n in props}
    for key in body:
        if key not in props:
            hint = (
                f" (did you mean '{lower[key.lower()]}'? Property names are case-sensitive)"
                if key.lower() in lower
                else ""
            )
            raise bad_request(
                "InvalidRequestBody", f"Request body is incorrect: unknown property '{key}'{hint}"
            )
    for name, p in props.items():
        if name not in body or (body[name] is None and not p.nullable):
            if p.required:
                raise ApiFailure(400, "MissingRequiredParameter", f"Parameter {name} is missing.")
            body.pop(name, None)
            continue
        _check(name, p, body[name])
    return body


def _check(name: str, p: Prop, value: Any) -> None:
    if value is None:
        return
    expected = _PY[p.type]
    if not isinstance(value, expected) or (p.type == "integer" and isinstance(value, bool)):
        raise bad_request(
            "InvalidRequestBody", f"Request body is incorrect: '{name}' must be of type {p.type}"
        )
    if p.type == "array" and not all(isinstance(v, _PY[p.items]) and not isinstance(v, bool) for v in value):
        raise bad_request(
            "InvalidRequestBody", f"Request body is incorrect: '{name}' must hold {p.items} items"
        )
    if p.values and value not in p.values:
        raise bad_request(
            "InvalidInput", f"Invalid input {name}: '{value}'. Allowed values: {', '.join(p.values)}"
        )
    if p.check is not None:
        problem = p.check(value)
        if problem:
            raise bad_request("InvalidInput", f"Invalid input {name}: {problem}")


def storage_error(error: SasError, now: str) -> Response:
    """A refused signed download as Azure Storage answers it: XML ``<Error>`` and ``x-ms-*`` headers."""
    request_id = str(uuid.uuid4())
    detail = f"<AuthenticationErrorDetail>{error.detail}</AuthenticationErrorDetail>" if error.detail else ""
    body = (
        '<?xml version="1.0" encoding="utf-8"?><Error>'
        f"<Code>{error.code}</Code><Message>{error.message}\nRequestId:{request_id}\nTime:{now}</Message>"
        f"{detail}</Error>"
    )
    headers = {"x-ms-request-id": request_id, "x-ms-version": "2019-12-12", "x-ms-error-code": error.code}
    return Response(body, error.status, headers=headers, media_type="application/xml")
