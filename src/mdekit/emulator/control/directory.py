"""Control plane for the directory: tenants, app registrations, permissions, consent, credentials.

``{tenant}`` in a path is a tenant GUID or domain. Bad input -> 400 ``{"detail": "<message>"}``;
an unknown tenant or app -> 404. Secret values appear only in the 201 answer that creates them.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response
from fastapi.responses import JSONResponse

from mdekit.emulator.clock import MAX_TIME, MIN_TIME, format_odata_time, parse_time
from mdekit.emulator.control.core import _json, emu
from mdekit.emulator.entra.directory import AppInfo, DirectoryError, DirectoryStore

router = APIRouter()

__all__ = ["router"]


def _fail(exc: DirectoryError) -> HTTPException:
    return HTTPException(404 if exc.kind == "not_found" else 400, str(exc))


def _time(epoch: float) -> str:
    from datetime import UTC, datetime

    return format_odata_time(datetime.fromtimestamp(epoch, UTC))


def _str_list(body: dict[str, Any], key: str) -> list[Any]:
    value = body.get(key) or []
    if not isinstance(value, list):
        raise HTTPException(400, f"{key} must be a list of role names")
    return value


def _bool(body: dict[str, Any], key: str, default: bool) -> bool:
    value = body.get(key, default)
    if value is None:
        return default
    if not isinstance(value, bool):
        raise HTTPException(400, f"{key} must be true or false")
    return value


def _end_time(body: dict[str, Any]) -> float | None:
    value = body.get("endDateTime")
    if value is None:
        return None
    try:
        end = parse_time(value).timestamp() if isinstance(value, str) else None
    except (ValueError, OverflowError):
        end = None
    if end is None or not MIN_TIME <= end <= MAX_TIME:
        raise HTTPException(400, f"endDateTime must be an ISO 8601 time between {_bounds()}")
    return end


def _name(body: dict[str, Any]) -> str:
    value = body.get("displayName")
    if value is not None and not isinstance(value, str):
        raise HTTPException(400, "displayName must be a string")
    return value or ""


def _pem(body: dict[str, Any]) -> str | None:
    pem = body.get("certificatePem")
    if pem is not None and not isinstance(pem, str):
        raise HTTPException(400, "certificatePem must be a PEM text")
    return pem or None


def _bounds() -> str:
    return f"{_time(MIN_TIME)[:10]} and {_time(MAX_TIME)[:10]}"


def _secret_json(secret: dict[str, Any]) -> dict[str, Any]:
    return {
        "value": secret["value"],
        "keyId": secret["keyId"],
        "hint": secret["hint"],
        "startDateTime": _time(secret["startTime"]),
        "endDateTime": _time(secret["endTime"]),
    }


def _app_json(d: DirectoryStore, app: AppInfo) -> dict[str, Any]:
    return {
        "appId": app.app_id,
        "objectId": app.object_id,
        "displayName": app.display_name,
        "tenantId": app.home_tenant,
        "multiTenant": app.multi_tenant,
        "permissions": [p.role for p in d.requested_permissions(app.app_id)],
        "grantedRoles": d.granted_roles(app.home_tenant, app.app_id),
        "secrets": [
            {"keyId": s["keyId"], "hint": s["hint"], "endDateTime": _time(s["endTime"])}
            for s in d.secrets_of(app.app_id)
        ],
        "certificates": [
            {"thumbprintSha1": c.sha1, "thumbprintSha256": c.sha256, "endDateTime": _time(c.end_time)}
            for c in d.certificates_of(app.app_id)
        ],
    }


@router.post("/tenants", status_code=201)
async def create_tenant(request: Request) -> dict[str, Any]:
    """``{"displayName", "domain"?, "tenantId"?}`` -> ``{"tenantId", "displayName", "domain"}``."""
    body = await _json(request)
    try:
        tenant = emu(request).directory.create_tenant(_name(body), body.get("domain"), body.get("tenantId"))
    except DirectoryError as exc:
        raise _fail(exc) from None
    return tenant.to_json()


@router.get("/tenants")
def list_tenants(request: Request) -> dict[str, Any]:
    """Every tenant."""
    return {"value": [t.to_json() for t in emu(request).directory.tenants()]}


@router.post("/tenants/{tenant}/applications", status_code=201)
async def create_application(request: Request, tenant: str) -> dict[str, Any]:
    """Register an app (optionally consented, with a secret and/or certificate, or a public client);
    all or nothing."""
    body = await _json(request)
    d = emu(request).directory
    perms, multi = _str_list(body, "permissions"), _bool(body, "multiTenant", False)
    public = _bool(body, "publicClient", False)
    grant, want_secret = _bool(body, "grantConsent", True), _bool(body, "secret", not public)
    end, pem = _end_time(body), _pem(body)
    if public and (want_secret or pem):
        raise HTTPException(400, "a public client (publicClient: true) has no secret or certificate")
    uris = body.get("redirectUris") or ["https://portal.azure.com"]
    if not isinstance(uris, list):
        raise HTTPException(400, "redirectUris must be a list of URIs")
    try:
        # one transaction: a certificate or secret refused after the app was written leaves no app
        with emu(request).db.tx():
            app = d.create_application(
                tenant,
                _name(body),
                multi_tenant=multi,
                permissions=perms,
                redirect_uris=tuple(uris),
                public_client=public,
            )
            secret = d.add_secret(tenant, app.app_id, end) if want_secret else None
            cert = d.add_certificate(tenant, app.app_id, pem) if pem else None
            roles = d.consent(tenant, app.app_id) if grant else []
    except DirectoryError as exc:
        raise _fail(exc) from None
    return {
        "appId": app.app_id,
        "objectId": app.object_id,
        "tenantId": app.home_tenant,
        "displayName": app.display_name,
        "multiTenant": app.multi_tenant,
        "publicClient": public,
        "grantedRoles": roles,
        "secret": _secret_json(secret) if secret else None,
        "certificate": {"thumbprintSha1": cert.sha1, "thumbprintSha256": cert.sha256} if cert else None,
    }


@router.get("/tenants/{tenant}/applications")
def list_applications(request: Request, tenant: str) -> dict[str, Any]:
    """Apps registered in the tenant (secret metadata only)."""
    d = emu(request).directory
    try:
        return {"value": [_app_json(d, a) for a in d.applications(tenant)]}
    except DirectoryError as exc:
        raise _fail(exc) from None


@router.get("/tenants/{tenant}/applications/{app_id}")
def get_application(request: Request, tenant: str, app_id: str) -> dict[str, Any]:
    """One app registration."""
    d = emu(request).directory
    try:
        return _app_json(d, d.application(tenant, app_id))
    except DirectoryError as exc:
        raise _fail(exc) from None


@router.delete("/tenants/{tenant}/applications/{app_id}", status_code=204)
def delete_application(request: Request, tenant: str, app_id: str) -> Response:
    """Delete the registration, its credentials and its service principals everywhere."""
    try:
        emu(request).directory.delete_application(tenant, app_id)
    except DirectoryError as exc:
        raise _fail(exc) from None
    return Response(status_code=204)


@router.post("/tenants/{tenant}/applications/{app_id}/permissions")
async def update_permissions(request: Request, tenant: str, app_id: str) -> dict[str, Any]:
    """``{"add": [...], "remove": [...]}``: requested only; granted at the next consent."""
    body = await _json(request)
    d = emu(request).directory
    try:
        requested = d.update_permissions(tenant, app_id, _str_list(body, "add"), _str_list(body, "remove"))
        granted = d.granted_roles(tenant, app_id)
    except DirectoryError as exc:
        raise _fail(exc) from None
    return {"appId": app_id.lower(), "permissions": requested, "grantedRoles": granted}


@router.post("/tenants/{tenant}/consent")
async def consent(request: Request, tenant: str) -> dict[str, Any]:
    """``{"appId"}``: admin consent in this tenant -> ``{"roles"}``."""
    body = await _json(request)
    if not isinstance(body.get("appId"), str):
        raise HTTPException(400, "appId is required")
    d = emu(request).directory
    try:
        roles = d.consent(tenant, body["appId"])
        tid = d.tenant(tenant).id
    except DirectoryError as exc:
        raise _fail(exc) from None
    return {"tenantId": tid, "appId": body["appId"].lower(), "roles": roles}


@router.delete("/tenants/{tenant}/consent/{app_id}", status_code=204)
def revoke_consent(request: Request, tenant: str, app_id: str) -> Response:
    """Remove the app's service principal (and grants) from the tenant."""
    try:
        emu(request).directory.revoke_consent(tenant, app_id)
    except DirectoryError as exc:
        raise _fail(exc) from None
    return Response(status_code=204)


@router.post("/tenants/{tenant}/applications/{app_id}/secrets", status_code=201)
async def add_secret(request: Request, tenant: str, app_id: str) -> dict[str, Any]:
    """``{"endDateTime"?}`` -> the new secret (its value is shown only here)."""
    body = await _json(request)
    try:
        return _secret_json(emu(request).directory.add_secret(tenant, app_id, _end_time(body)))
    except DirectoryError as exc:
        raise _fail(exc) from None


@router.post("/tenants/{tenant}/applications/{app_id}/certificates", status_code=201)
async def add_certificate(request: Request, tenant: str, app_id: str) -> JSONResponse:
    """``{"certificatePem"}`` -> ``{"thumbprintSha1", "thumbprintSha256", "endDateTime"}``."""
    body = await _json(request)
    if not isinstance(body.get("certificatePem"), str):
        raise HTTPException(400, "certificatePem is required")
    try:
        cert = emu(request).directory.add_certificate(tenant, app_id, body["certificatePem"])
    except DirectoryError as exc:
        raise _fail(exc) from None
    return JSONResponse(
        {"thumbprintSha1": cert.sha1, "thumbprintSha256": cert.sha256, "endDateTime": _time(cert.end_time)},
        status_code=201,
    )
