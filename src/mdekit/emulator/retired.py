"""APIs Microsoft is retiring, answered as retired when the control plane says so.

Microsoft message MC1220762: the Microsoft Defender for Endpoint advanced hunting API
(``/api/advancedqueries/run``) and the Defender XDR one (``/api/advancedhunting/run``) are being
retired in favour of Microsoft Graph ``security/runHuntingQuery``; "retirement began in January
2026. After retirement completes, the ... advanced hunting API no longer functions"
([DD:run-advanced-query-api], [DDX:api-advanced-hunting]); other notes give 31 January 2027.

``POST /_emulator/retirements {"advancedHunting": true}`` makes both endpoints answer as retired, so
users can test that their code has moved to Graph. What the real endpoints will answer then is
UNVERIFIED: the emulator answers 410 Gone in the Defender API's envelope, naming the replacement.
:class:`RetiredApiMiddleware` checks this before any route (the hunting routes stay untouched).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from mdekit.emulator.envelopes import Problem, send_problem
from mdekit.emulator.retirements import HUNTING_PATHS, Retirements

__all__ = ["HUNTING_PATHS", "RetiredApiMiddleware", "Retirements", "router"]

_MESSAGE = (
    "The advanced hunting API at {path} is retired (Microsoft message MC1220762). Use Microsoft Graph "
    "instead: POST https://graph.microsoft.com/v1.0/security/runHuntingQuery with the "
    "ThreatHunting.Read.All permission."
)


def _retired_path(path: str) -> str | None:
    low = path.lower().rstrip("/")
    if low.startswith("/api/v1.0/"):
        low = "/api/" + low[len("/api/v1.0/") :]
    return low if low in HUNTING_PATHS else None


class RetiredApiMiddleware:
    """Answers requests to a retired API (410 Gone, the Defender envelope) before any route."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["app"].state.emu.retired.hunting:
            path = _retired_path(scope["path"])
            if path is not None:
                problem = Problem(410, "Gone", _MESSAGE.format(path=path))
                await send_problem(scope, receive, send, problem)
                return
        await self.app(scope, receive, send)


router = APIRouter()


@router.post("/retirements")
async def set_retirements(request: Request) -> dict[str, Any]:
    """``{"advancedHunting": bool}``: answer the legacy advanced-hunting APIs as retired, or not."""
    try:
        body = await request.json()
    except ValueError:
        raise HTTPException(400, "expected a JSON object") from None
    if not isinstance(body, dict) or set(body) - {"advancedHunting"}:
        raise HTTPException(400, 'expected {"advancedHunting": true|false}')
    value = body.get("advancedHunting")
    if not isinstance(value, bool):
        raise HTTPException(400, "advancedHunting must be true or false")
    retired: Retirements = request.app.state.emu.retired
    retired.set(hunting=value)
    return retired.settings()


@router.get("/retirements")
def get_retirements(request: Request) -> dict[str, Any]:
    """Which retired APIs answer as retired."""
    retired: Retirements = request.app.state.emu.retired
    return retired.settings()
