"""HTTP routes of the emulated Entra ID: token endpoints, discovery, JWKS and admin consent.

Thin handlers: parse the request, call :mod:`token_service` / :mod:`discovery` / :mod:`consent`,
serialize. Every token answer (success or error) carries ``Cache-Control: no-store``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from mdekit.emulator.entra import consent, discovery
from mdekit.emulator.entra.errors import EntraError
from mdekit.emulator.entra.token_http import NO_STORE, answer, parse_form
from mdekit.emulator.entra.token_service import TokenRequest, basic_credentials, resolve_tenant
from mdekit.emulator.state import EmulatorState

router = APIRouter(include_in_schema=False)

__all__ = ["router"]

_NO_STORE = NO_STORE


def _state(request: Request) -> EmulatorState:
    state: EmulatorState = request.app.state.emu
    return state


def _base(request: Request) -> str:
    """``https://<Host>`` exactly as the client addressed us."""
    return f"https://{_host(request)}"


def _host(request: Request) -> str:
    return request.headers.get("host") or f"{request.url.hostname}:{request.url.port}"


def entra_error(request: Request, exc: EntraError) -> JSONResponse:
    """The service's JSON error answer for *exc*."""
    body = exc.body(_state(request).clock.now())
    return JSONResponse(body, status_code=exc.status, headers=_NO_STORE)


async def _token(request: Request, tenant: str, version: str) -> Response:
    # Normally answered earlier by token_http.TokenEndpointMiddleware (same code, less overhead).
    form = parse_form(await request.body())
    req = TokenRequest(
        version, tenant, _host(request), form, basic_credentials(request.headers.get("authorization"))
    )
    try:
        status, body = await answer(_state(request), req)
    finally:
        request.state.tenant_id, request.state.app_id = req.tenant_id, req.app_id
    return Response(body, status_code=status, media_type="application/json", headers=_NO_STORE)


@router.post("/{tenant}/oauth2/v2.0/token")
async def token_v2(request: Request, tenant: str) -> Response:
    """v2 client credentials (``scope=<resource>/.default``)."""
    return await _token(request, tenant, "v2")


@router.post("/{tenant}/oauth2/token")
async def token_v1(request: Request, tenant: str) -> Response:
    """v1 client credentials (``resource=<resource>``)."""
    return await _token(request, tenant, "v1")


@router.get("/{tenant}/oauth2/v2.0/token")
@router.get("/{tenant}/oauth2/token")
def token_get(request: Request, tenant: str) -> Response:
    """AADSTS900561: the token endpoint only accepts POST."""
    return entra_error(request, EntraError(900561))


def _discovery(request: Request, tenant: str, v2: bool) -> Response:
    try:
        info = resolve_tenant(_state(request), tenant, allow_multi=True)
    except EntraError as exc:
        if exc.code == 90002:  # discovery names it invalid_tenant
            exc.error = "invalid_tenant"
        return entra_error(request, exc)
    request.state.tenant_id = info.id if info else None
    build = discovery.openid_configuration_v2 if v2 else discovery.openid_configuration_v1
    return JSONResponse(build(_base(request), info.id if info else tenant.lower(), specific=info is not None))


@router.get("/{tenant}/v2.0/.well-known/openid-configuration")
def openid_v2(request: Request, tenant: str) -> Response:
    """v2 OpenID discovery document."""
    return _discovery(request, tenant, True)


@router.get("/{tenant}/.well-known/openid-configuration")
def openid_v1(request: Request, tenant: str) -> Response:
    """v1 OpenID discovery document."""
    return _discovery(request, tenant, False)


@router.get("/common/discovery/keys")
def jwks_common(request: Request) -> dict[str, Any]:
    """v1 signing keys (no ``issuer`` on the keys)."""
    return _state(request).signer.jwks()


@router.get("/{tenant}/discovery/keys")
def jwks_tenant_v1(request: Request, tenant: str) -> dict[str, Any]:
    """v1 signing keys for a tenant."""
    return _state(request).signer.jwks()


@router.get("/{tenant}/discovery/v2.0/keys")
def jwks_v2(request: Request, tenant: str) -> dict[str, Any]:
    """v2 signing keys; each carries the (templated for ``common``) v2 issuer."""
    state = _state(request)
    info = state.directory.find_tenant(tenant)
    issuer = f"{_base(request)}/{info.id if info else '{tenantid}'}/v2.0"
    return state.signer.jwks(issuer)


@router.get("/common/discovery/instance")
def instance(request: Request) -> dict[str, Any]:
    """Instance discovery (msal calls it after errors when posing as a Microsoft host)."""
    host = _host(request)
    return discovery.instance_metadata(host.split(":")[0] if host.count(":") == 1 else host, _base(request))


@router.get("/{tenant}/oauth2/authorize")
def authorize_v1(request: Request, tenant: str) -> Response:
    """The v1 authorize link the MDE partner docs give customers (``prompt=consent``)."""
    return _page(consent.start(_state(request), tenant, dict(request.query_params), "v1"))


@router.get("/{tenant}/v2.0/adminconsent")
def adminconsent_v2(request: Request, tenant: str) -> Response:
    """The v2 admin-consent endpoint."""
    return _page(consent.start(_state(request), tenant, dict(request.query_params), "v2"))


@router.get("/{tenant}/adminconsent")
def adminconsent_v1(request: Request, tenant: str) -> Response:
    """The v1-style admin-consent endpoint."""
    return _page(consent.start(_state(request), tenant, dict(request.query_params), "v1-admin"))


@router.post("/common/oauth2/consent-decision")
async def consent_decision(request: Request) -> Response:
    """The consent page's form: accept or decline, then redirect as the real service does."""
    form = parse_form(await request.body())
    outcome = consent.decide(_state(request), form)
    request.state.tenant_id, request.state.app_id = outcome.tenant_id, outcome.app_id
    return _page(outcome)


def _page(outcome: consent.Outcome) -> Response:
    if outcome.redirect:
        return RedirectResponse(outcome.redirect, status_code=302, headers=_NO_STORE)
    return HTMLResponse(outcome.html, status_code=outcome.status, headers=_NO_STORE)
