"""The three advanced-hunting endpoints: MDE, Microsoft Threat Protection (XDR) and Graph.

Routes only parse, call the store and serialize; each API answers in its own shape
(``Stats``/``Schema``/``Results`` vs Graph's ``schema``/``results``) and its own error envelope.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from mdekit.catalog import GRAPH, MDE, MTP, ResourceApp, operation
from mdekit.emulator.bodies import InvalidJson, parse_json
from mdekit.emulator.hunting.access import AccessDenied, check_access
from mdekit.emulator.hunting.errors import KqlError, KqlQuotaError
from mdekit.emulator.hunting.store import hunting_store

__all__ = ["router"]

# Documented in the OpenAPI description so clients (and the schemathesis fuzz suite) know them.
router = APIRouter(
    responses={
        400: {"description": "Bad request: body, Query, Timespan or KQL"},
        401: {"description": "Unauthorized: missing, malformed, expired or foreign token"},
        403: {"description": "Forbidden: token for another resource or without the required role"},
        429: {"description": "TooManyRequests (Retry-After header, seconds)"},
    }
)
_GRAPH_CONTEXT = "https://graph.microsoft.com/v1.0/$metadata#microsoft.graph.security.huntingQueryResults"
_GRAPH_CODES = {
    401: "InvalidAuthenticationToken",
    403: "Forbidden",
    429: "TooManyRequests",
    400: "BadRequest",
}


def _token(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


async def _body(request: Request) -> dict[str, Any]:
    try:
        body = parse_json(await request.body() or b"null")
    except InvalidJson as exc:  # not JSON, or nested deeper than any real body (the shared reader)
        raise AccessDenied(400, "InvalidRequestBody", f"Request body is incorrect: {exc}") from None
    if not isinstance(body, dict):
        raise AccessDenied(400, "InvalidRequestBody", "Request body is incorrect")
    query = body.get("Query")
    if not isinstance(query, str) or not query.strip():
        raise AccessDenied(400, "MissingRequiredParameter", "Parameter Query is missing.")
    return body


def _mde_error(request_id: str, exc: AccessDenied) -> Response:
    body = {"error": {"code": exc.code, "message": exc.message, "target": request_id}}
    return JSONResponse(body, exc.status, headers={**exc.headers, "request-id": request_id})


def _graph_error(request_id: str, exc: AccessDenied) -> Response:
    inner = {
        "date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S"),
        "request-id": request_id,
        "client-request-id": request_id,
    }
    code = (
        exc.code if exc.status == 400 and exc.code != "BadRequest" else _GRAPH_CODES.get(exc.status, exc.code)
    )
    body = {"error": {"code": code, "message": exc.message, "innerError": inner}}
    return JSONResponse(body, exc.status, headers={**exc.headers, "request-id": request_id})


_DURATION = re.compile(r"^P(?:(\d+)D)?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$", re.IGNORECASE)


def _timespan_us(value: Any) -> int | None:
    """Graph's ``Timespan`` (ISO 8601 duration such as ``P7D`` or ``PT12H``) in microseconds."""
    if value in (None, ""):
        return None
    m = _DURATION.match(str(value))
    if not m or not any(m.groups()):
        raise AccessDenied(
            400, "BadRequest", f"Invalid Timespan '{value}': expected an ISO 8601 duration like P7D"
        )
    d, h, mi, s = (int(g or 0) for g in m.groups())
    return (((d * 24 + h) * 60 + mi) * 60 + s) * 1_000_000


async def _run(request: Request, op_name: str, resource: ResourceApp) -> tuple[Any, dict[str, Any]]:
    state = request.app.state.emu
    caller = check_access(state, _token(request), operation(op_name), resource)
    request.state.tenant_id, request.state.app_id = caller.tenant_id, caller.app_id
    body = await _body(request)
    window = _timespan_us(body.get("Timespan")) if resource == GRAPH else None
    try:
        return hunting_store(state).run(caller.tenant_id, body["Query"], window_us=window), body
    except KqlQuotaError as exc:
        headers = {"Retry-After": str(exc.retry_after)}
        raise AccessDenied(429, "TooManyRequests", exc.message, headers) from None
    except KqlError as exc:
        raise AccessDenied(400, "BadRequest", exc.message) from None


async def _mde_like(request: Request, op_name: str, resource: ResourceApp) -> Response:
    request_id = str(uuid.uuid4())
    try:
        result, _ = await _run(request, op_name, resource)
    except AccessDenied as exc:
        return _mde_error(request_id, exc)
    body = {"Stats": result.stats, "Schema": result.schema(), "Results": result.rows}
    return JSONResponse(body, headers={"request-id": request_id})


@router.post("/api/advancedqueries/run")
async def run_mde(request: Request) -> Response:
    """MDE advanced hunting (WindowsDefenderATP, AdvancedQuery.Read.All)."""
    return await _mde_like(request, "hunting.run", MDE)


@router.post("/api/advancedhunting/run")
async def run_xdr(request: Request) -> Response:
    """Defender XDR advanced hunting (Microsoft Threat Protection, AdvancedHunting.Read.All)."""
    return await _mde_like(request, "hunting.run_xdr", MTP)


@router.post("/v1.0/security/runHuntingQuery")
async def run_graph(request: Request) -> Response:
    """Microsoft Graph ``security/runHuntingQuery`` (ThreatHunting.Read.All)."""
    request_id = str(uuid.uuid4())
    try:
        result, _ = await _run(request, "hunting.run_graph", GRAPH)
    except AccessDenied as exc:
        return _graph_error(request_id, exc)
    body = {"@odata.context": _GRAPH_CONTEXT, "schema": result.schema("name", "type"), "results": result.rows}
    return JSONResponse(body, headers={"request-id": request_id})
