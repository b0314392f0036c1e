"""The three advanced-hunting endpoints: MDE, Microsoft Threat Protection (XDR) and Graph.

Routes only parse, call the store and serialize; each API answers in its own shape
(``Stats``/``Schema``/``Results`` vs Graph's ``schema``/``results``) and its own error envelope.
A query runs on the store's worker threads, never on the event loop: while one runs, tokens,
JWKS and every other endpoint keep answering.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from mdekit.catalog import GRAPH, MDE, MTP, ResourceApp, operation
from mdekit.emulator.bodies import InvalidJson, parse_json
from mdekit.emulator.hunting.access import AccessDenied, check_access
from mdekit.emulator.hunting.engine import TIMEOUT_MESSAGE
from mdekit.emulator.hunting.errors import KqlError, KqlQuotaError
from mdekit.emulator.hunting.store import hunting_store

__all__ = ["parse_timespan", "router"]

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
_DURATION = re.compile(
    r"^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?"
    r"(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$",
    re.IGNORECASE,
)
# Years and months have no fixed length; the emulator counts 365 and 30 days (UNVERIFIED).
_DURATION_US = (365 * 86_400e6, 30 * 86_400e6, 7 * 86_400e6, 86_400e6, 3_600e6, 60e6, 1e6)


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


def _duration_us(text: str) -> int | None:
    m = _DURATION.match(text)
    if not m or not any(m.groups()):
        return None
    return int(sum(float(g or 0) * unit for g, unit in zip(m.groups(), _DURATION_US, strict=True)))


def _instant_us(text: str) -> int | None:
    from mdekit.emulator.clock import parse_time

    try:
        dt = parse_time(text)
    except ValueError:
        return None
    return int(dt.timestamp()) * 1_000_000 + dt.microsecond


def parse_timespan(value: Any, now_us: int) -> tuple[int, int] | None:
    """Graph's ``Timespan`` as ``(start, end)`` microseconds, in every documented form.

    ``P30D`` (back from now), ``start/end``, ``P30D/end`` (duration before end), ``start/P30D``
    (start plus duration) and a single ``start`` (start to now); ``None`` when absent.
    """
    if value in (None, ""):
        return None
    text = str(value).strip()
    first, sep, second = text.partition("/")
    bad = AccessDenied(
        400,
        "BadRequest",
        f"Invalid Timespan '{value}': expected an ISO 8601 duration (P7D), a start/end interval "
        "(2024-02-01T08:00:00Z/2024-02-15T08:00:00Z), duration/end, start/duration or a start date",
    )
    if not sep:
        span = _duration_us(first)
        if span is not None:
            return now_us - span, now_us
        start = _instant_us(first)
        if start is None:
            raise bad
        return start, now_us
    a_span, b_span = _duration_us(first), _duration_us(second)
    a_time, b_time = _instant_us(first), _instant_us(second)
    if a_time is not None and b_time is not None:
        interval = (a_time, b_time)
    elif a_span is not None and b_time is not None:
        interval = (b_time - a_span, b_time)
    elif a_time is not None and b_span is not None:
        interval = (a_time, a_time + b_span)
    else:
        raise bad
    if interval[0] > interval[1]:
        raise bad
    return interval


async def _run(request: Request, op_name: str, resource: ResourceApp) -> Any:
    state = request.app.state.emu
    caller = check_access(state, _token(request), operation(op_name), resource)
    request.state.tenant_id, request.state.app_id = caller.tenant_id, caller.app_id
    body = await _body(request)
    store = hunting_store(state)
    now_us = int(state.clock.time() * 1_000_000)
    window = parse_timespan(body.get("Timespan"), now_us) if resource == GRAPH else None
    try:
        run = store.submit(caller.tenant_id, body["Query"], window=window)
        # The engine interrupts a query at its budget; this bounds the wait even for work it cannot
        # interrupt (building a very large tenant's tables).
        return await asyncio.wait_for(asyncio.wrap_future(run), store.limits.max_seconds + 10)
    except TimeoutError:
        raise AccessDenied(400, "BadRequest", TIMEOUT_MESSAGE) from None
    except KqlQuotaError as exc:
        headers = {"Retry-After": str(exc.retry_after)}
        raise AccessDenied(429, "TooManyRequests", exc.message, headers) from None
    except KqlError as exc:
        raise AccessDenied(400, "BadRequest", exc.message) from None


async def _respond(request: Request, body: dict[str, Any], request_id: str) -> Response:
    # 100,000 rows take a while to serialize: do it on a hunting worker too, not on the event loop.
    content = await asyncio.wrap_future(hunting_store(request.app.state.emu).offload(orjson.dumps, body))
    return Response(content, media_type="application/json", headers={"request-id": request_id})


async def _mde_like(request: Request, op_name: str, resource: ResourceApp) -> Response:
    request_id = str(uuid.uuid4())
    try:
        result = await _run(request, op_name, resource)
    except AccessDenied as exc:
        return _mde_error(request_id, exc)
    body = {"Stats": result.stats, "Schema": result.schema(), "Results": result.rows}
    return await _respond(request, body, request_id)


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
        result = await _run(request, "hunting.run_graph", GRAPH)
    except AccessDenied as exc:
        return _graph_error(request_id, exc)
    body = {"@odata.context": _GRAPH_CONTEXT, "schema": result.schema("name", "type"), "results": result.rows}
    return await _respond(request, body, request_id)
