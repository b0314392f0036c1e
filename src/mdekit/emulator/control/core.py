"""Control plane: loopback guard, clock, reset, request journal."""

from __future__ import annotations

import ipaddress
from datetime import datetime
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from mdekit.emulator.bodies import InvalidJson, parse_json
from mdekit.emulator.clock import format_odata_time, parse_time
from mdekit.emulator.state import EmulatorState

router = APIRouter()

__all__ = ["emu", "loopback_only", "router"]


def emu(request: Request) -> EmulatorState:
    """The emulator state behind this request's app."""
    state: EmulatorState = request.app.state.emu
    return state


def loopback_only(request: Request) -> None:
    """Refuse the control plane to anything but a loopback client (403)."""
    host = request.client.host if request.client else ""
    try:
        ok = ipaddress.ip_address(host).is_loopback
    except ValueError:
        ok = host in ("localhost", "testclient")  # in-process transports have no IP
    if not ok:
        raise HTTPException(status_code=403, detail="the control plane answers loopback clients only")


@router.post("/clock")
async def set_clock(request: Request) -> dict[str, Any]:
    """``{"advanceSeconds": n}`` or ``{"now": "<ISO 8601>"}`` -> ``{"now"}``; checked before it applies."""
    body = await _json(request)
    state = emu(request)
    unknown = set(body) - {"advanceSeconds", "now"}
    if unknown or len(body) > 1:
        raise HTTPException(400, "expected one of advanceSeconds or now")
    try:
        if "advanceSeconds" in body:
            seconds = body["advanceSeconds"]
            if not isinstance(seconds, int | float) or isinstance(seconds, bool):
                raise HTTPException(400, "advanceSeconds must be a number")
            state.clock.advance(float(seconds))
        elif "now" in body:
            if not isinstance(body["now"], str):
                raise HTTPException(400, "now must be an ISO 8601 time")
            state.clock.set(_parse_now(body["now"]))
    except ValueError as exc:  # out of the clock's range: nothing was changed
        raise HTTPException(400, str(exc)) from None
    state.save_clock()
    from mdekit.emulator.activity import catch_up

    catch_up(state)  # the activity generator's events up to the new time (issue 20)
    return {"now": format_odata_time(state.clock.now())}


def _parse_now(text: str) -> datetime:
    try:
        return parse_time(text)
    except ValueError:
        raise HTTPException(400, "now must be an ISO 8601 time") from None


@router.get("/clock")
def get_clock(request: Request) -> dict[str, Any]:
    """The virtual time."""
    return {"now": format_odata_time(emu(request).clock.now())}


@router.post("/reset", status_code=204)
def reset(request: Request) -> Response:
    """Forget everything (directory, Defender data, faults, journal)."""
    emu(request).reset()
    return Response(status_code=204)


@router.get("/requests")
def requests_log(request: Request) -> dict[str, Any]:
    """The request journal, oldest first."""
    return {"value": emu(request).journal.entries()}


@router.delete("/requests", status_code=204)
def clear_requests(request: Request) -> Response:
    """Empty the request journal."""
    emu(request).journal.clear()
    return Response(status_code=204)


async def _json(request: Request) -> dict[str, Any]:
    """The request body as a JSON object (empty body -> ``{}``); 400 otherwise."""
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        body = parse_json(raw)
    except InvalidJson as exc:
        raise HTTPException(400, f"body must be JSON: {exc}") from None
    if not isinstance(body, dict):
        raise HTTPException(400, "body must be a JSON object")
    return body
