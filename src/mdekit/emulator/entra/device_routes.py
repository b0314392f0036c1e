"""HTTP routes of the device code flow: the device authorization endpoints and the sign-in page.

``POST /{tenant}/oauth2/v2.0/devicecode`` (``client_id``, ``scope``) and the v1
``POST /{tenant}/oauth2/devicecode`` (``client_id``, ``resource``) start a flow; the token
endpoints (:mod:`.token_http`) answer the polls. ``/devicelogin`` stands in for
microsoft.com/devicelogin: a person enters the code and a user name, then accepts or declines
(tests do the same with ``POST /_emulator/devicecode/approve`` and ``/decline``).
"""

from __future__ import annotations

import html

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from mdekit.emulator.entra import delegated
from mdekit.emulator.entra.errors import EntraError
from mdekit.emulator.entra.token_http import NO_STORE, parse_form
from mdekit.emulator.entra.token_service import TokenRequest, basic_credentials
from mdekit.emulator.state import EmulatorState

__all__ = ["router"]

router = APIRouter(include_in_schema=False)


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emu
    return state


def _host(request: Request) -> str:
    return request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"


async def _devicecode(request: Request, tenant: str, version: str) -> Response:
    state = _state(request)
    req = TokenRequest(
        version,
        tenant,
        _host(request),
        parse_form(await request.body()),
        basic_credentials(request.headers.get("authorization")),
    )
    try:
        body = delegated.start_flow(state, req)
        status = 200
    except EntraError as exc:
        body, status = exc.body(state.clock.now()), exc.status
    finally:
        request.state.tenant_id, request.state.app_id = req.tenant_id, req.app_id
    return JSONResponse(body, status_code=status, headers=NO_STORE)


@router.post("/{tenant}/oauth2/v2.0/devicecode")
async def devicecode_v2(request: Request, tenant: str) -> Response:
    """Start a device-code sign-in (v2: ``scope``)."""
    return await _devicecode(request, tenant, "v2")


@router.post("/{tenant}/oauth2/devicecode")
async def devicecode_v1(request: Request, tenant: str) -> Response:
    """Start a device-code sign-in (v1: ``resource``)."""
    return await _devicecode(request, tenant, "v1")


@router.get("/{tenant}/oauth2/v2.0/devicecode")
@router.get("/{tenant}/oauth2/devicecode")
def devicecode_get(request: Request, tenant: str) -> Response:
    """AADSTS900561: the device authorization endpoint only accepts POST."""
    body = EntraError(900561).body(_state(request).clock.now())
    return JSONResponse(body, status_code=400, headers=NO_STORE)


_STYLE = "<style>body{font-family:sans-serif;max-width:32em;margin:3em auto}input{width:100%}</style>"


def _page(title: str, body: str, status: int = 200) -> HTMLResponse:
    doc = (
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>{html.escape(title)}</title>{_STYLE}"
        f"</head><body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return HTMLResponse(doc, status_code=status, headers=NO_STORE)


@router.get(delegated.VERIFICATION_PATH)
def devicelogin_form() -> Response:
    """The page a person opens to enter a device code (the emulator's microsoft.com/devicelogin)."""
    form = (
        f"<form method='post' action='{delegated.VERIFICATION_PATH}'>"
        "<p><label>Code <input name='code' autofocus autocomplete='off'></label></p>"
        "<p><label>Sign in as <input name='upn' placeholder='admin@contoso.onmicrosoft.com'></label></p>"
        "<p><label><input type='checkbox' name='org' value='1' style='width:auto'> Consent on behalf of "
        "your organization (administrators)</label></p>"
        "<p><button name='decision' value='accept'>Sign in and accept</button> "
        "<button name='decision' value='decline'>Cancel</button></p></form>"
    )
    return _page("Enter code", "<p>Enter the code displayed on your app or device.</p>" + form)


@router.post(delegated.VERIFICATION_PATH)
async def devicelogin_submit(request: Request) -> Response:
    """Accept (sign in as the user given) or decline the sign-in the code names."""
    form = parse_form(await request.body())
    state = _state(request)
    try:
        if form.get("decision") == "accept":
            outcome = delegated.approve(
                state, form.get("code", ""), form.get("upn", ""), for_organization=form.get("org") == "1"
            )
        else:
            outcome = delegated.decline(state, form.get("code", ""))
    except delegated.ApprovalError as exc:
        return _page("Sign in: something went wrong", f"<p id='error'>{html.escape(str(exc))}</p>", 400)
    if outcome["status"] == "declined":
        return _page("Sign-in cancelled", "<p>You can close this window.</p>")
    if outcome["status"] == "consent_required":
        text = (
            "<p id='error'>Need admin approval: these permissions can be granted only by an administrator."
            " Sign in as one, or ask one to grant them to the app for your organization.</p>"
        )
        return _page("Need admin approval", text)
    who = html.escape(str(outcome["userPrincipalName"]))
    return _page("You're signed in", f"<p>Signed in as {who}. You can close this window.</p>")
