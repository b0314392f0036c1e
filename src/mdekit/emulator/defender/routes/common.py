"""Helpers shared by the Defender route modules: state access, list options, body validation."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from fastapi import Query, Request
from fastapi.responses import Response

from mdekit.emulator.bodies import InvalidJson, parse_json
from mdekit.emulator.defender.listing import ListQuery, parse_list_query
from mdekit.emulator.defender.odata import Field, ODataError
from mdekit.emulator.defender.sas import SasError
from mdekit.emulator.defender.store import DefenderStore
from mdekit.emulator.defender.wire import ApiFailure, bad_request, odata_collection

__all__ = [
    "ERRORS",
    "Prop",
    "body_schema",
    "check_body",
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


def store(request: Request) -> DefenderStore:
    """The Defender store of the app serving *request*."""
    defender: DefenderStore = request.app.state.emu.defender
    return defender


def list_options(request: Request, fields: dict[str, Field], set_name: str, **kw: Any) -> ListQuery:
    """Parse ``$filter``/``$top``/``$skip``/``$expand``; 400 ``ODataError`` when invalid."""
    try:
        return parse_list_query(dict(request.query_params), fields, set_name, **kw)
    except ODataError as exc:
        raise bad_request("ODataError", str(exc)) from None


def list_answer(request: Request, set_name: str, query: ListQuery, items: list[Any], more: bool) -> Any:
    """The collection envelope, with ``@odata.nextLink`` when a page without ``$top`` is not the last."""
    link = None
    if more:
        params = {k: v for k, v in request.query_params.items() if k.lower() != "$skip"}
        params["$skip"] = str(query.skip + len(items))
        host = request.headers.get("host") or "api.securitycenter.microsoft.com"
        link = f"https://{host}{request.url.path}?{urlencode(params, safe='$')}"
    return odata_collection(request, set_name, items, link)


@dataclass(frozen=True)
class Prop:
    """A body property: JSON type, whether required, allowed values (enums) and a custom check."""

    type: str = "string"  # string, boolean, integer, array
    required: bool = False
    values: tuple[str, ...] = ()
    items: str = "string"
    nullable: bool = False
    check: Callable[[Any], str | None] | None = field(default=None, compare=False)


_PY: dict[str, Any] = {"string": str, "boolean": bool, "integer": int, "array": list, "object": dict}


def body_schema(props: dict[str, Prop]) -> dict[str, Any]:
    """``openapi_extra`` describing a JSON body built from *props*."""
    properties: dict[str, Any] = {}
    for name, p in props.items():
        spec: dict[str, Any] = {"type": p.type}
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
