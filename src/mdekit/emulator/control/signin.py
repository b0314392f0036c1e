"""Control plane for users and device-code sign-ins: what a person does in a browser, as JSON.

``POST /tenants/{tenant}/users`` adds a member user with directory roles (every tenant also has
``admin@<domain>``, a Global Administrator); ``POST /devicecode/approve`` signs a user in with a
device code, ``POST /devicecode/decline`` cancels it; ``POST /devicecode/settings`` shortens the
polling interval and lifetime of new codes (Entra's: 5 s and 900 s) for fast tests.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from mdekit.emulator.control.core import _json, emu
from mdekit.emulator.entra import delegated
from mdekit.emulator.entra.directory import DirectoryError

router = APIRouter()

__all__ = ["router"]


def _text(body: dict[str, Any], key: str, required: bool = True) -> str:
    value = body.get(key, "")
    if not isinstance(value, str) or (required and not value.strip()):
        raise HTTPException(400, f"{key} is required (a string)")
    return value


@router.post("/tenants/{tenant}/users", status_code=201)
async def create_user(request: Request, tenant: str) -> dict[str, Any]:
    """``{"userPrincipalName", "displayName"?, "directoryRoles"?}`` -> ``{"id", "userPrincipalName"}``."""
    body = await _json(request)
    roles = body.get("directoryRoles") or []
    if not isinstance(roles, list):
        raise HTTPException(400, "directoryRoles must be a list of role names, e.g. ['Global Administrator']")
    try:
        user = emu(request).directory.create_user(
            tenant, _text(body, "userPrincipalName"), _text(body, "displayName", required=False), roles
        )
    except DirectoryError as exc:
        raise HTTPException(404 if exc.kind == "not_found" else 400, str(exc)) from None
    return {"id": user.object_id, "userPrincipalName": user.upn}


@router.get("/tenants/{tenant}/users")
def list_users(request: Request, tenant: str) -> dict[str, Any]:
    """The tenant's users with their directory roles."""
    try:
        return {"value": [u.to_json() for u in emu(request).directory.users(tenant)]}
    except DirectoryError as exc:
        raise HTTPException(404, str(exc)) from None


@router.post("/devicecode/approve")
async def approve(request: Request) -> dict[str, Any]:
    """``{"userCode", "userPrincipalName", "consentForOrganization"?}``: that user signs in and accepts
    (an administrator may consent for every user of the tenant, as the consent prompt offers)."""
    body = await _json(request)
    for_org = body.get("consentForOrganization", False)
    if not isinstance(for_org, bool):
        raise HTTPException(400, "consentForOrganization must be true or false")
    try:
        return delegated.approve(
            emu(request), _text(body, "userCode"), _text(body, "userPrincipalName"), for_organization=for_org
        )
    except delegated.ApprovalError as exc:
        raise HTTPException(exc.status, str(exc)) from None


@router.post("/devicecode/decline")
async def decline(request: Request) -> dict[str, Any]:
    """``{"userCode"}``: the person cancels the sign-in."""
    body = await _json(request)
    try:
        return delegated.decline(emu(request), _text(body, "userCode"))
    except delegated.ApprovalError as exc:
        raise HTTPException(exc.status, str(exc)) from None


def _seconds(body: dict[str, Any], key: str, low: int, high: int) -> int | None:
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise HTTPException(400, f"{key} must be an integer from {low} to {high}")
    return value


@router.post("/devicecode/settings")
async def settings(request: Request) -> dict[str, Any]:
    """``{"interval"?, "expiresIn"?}`` (seconds) for device codes issued from now on."""
    body = await _json(request)
    unknown = set(body) - {"interval", "expiresIn"}
    if unknown:
        raise HTTPException(400, f"unknown field(s): {', '.join(sorted(unknown))}")
    directory = emu(request).directory
    interval, expires = directory.set_device_code_settings(
        _seconds(body, "interval", 1, 300), _seconds(body, "expiresIn", 10, 86400)
    )
    return {"interval": interval, "expiresIn": expires}


@router.get("/devicecode/settings")
def get_settings(request: Request) -> dict[str, Any]:
    """The interval and lifetime of new device codes."""
    interval, expires = emu(request).directory.device_code_settings()
    return {"interval": interval, "expiresIn": expires}
