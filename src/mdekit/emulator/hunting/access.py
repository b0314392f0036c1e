"""Token, role and quota checks for the three hunting APIs.

The MDE endpoint reuses the Defender API's checks unchanged (``defender.auth.authenticate``).
For the Microsoft Threat Protection and Graph resources the same sequence runs with that
resource's audience. SWAP POINT: once ``defender.auth.authenticate`` takes the resource app as a
parameter, ``_verify_other`` becomes a call to it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

from mdekit.catalog import MDE, Operation, ResourceApp, resource_by_uri
from mdekit.emulator.entra.keys import InvalidToken

if TYPE_CHECKING:
    from mdekit.emulator.state import EmulatorState

__all__ = ["AccessDenied", "Caller", "check_access"]

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)


class AccessDenied(Exception):
    """A refused call: HTTP status, service error code, message and headers."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.message, self.headers = status, code, message, headers or {}


@dataclass(frozen=True)
class Caller:
    """The verified caller."""

    tenant_id: str
    app_id: str
    roles: tuple[str, ...]


def _verify_other(state: EmulatorState, token: str, resource: ResourceApp) -> Caller:
    try:
        claims = state.signer.verify(token, now=state.clock.time())
    except InvalidToken as exc:
        raise AccessDenied(
            401, "Unauthorized", f"Unauthorized request - reason of failure: {exc.reason}"
        ) from None
    tid = str(claims.get("tid", ""))
    if not _GUID.match(tid):
        raise AccessDenied(401, "Unauthorized", "Unauthorized request - reason of failure: invalid tenant")
    exists = getattr(state.directory, "tenant_exists", None)
    if callable(exists) and exists(tid) is False:
        raise AccessDenied(
            401, "Unauthorized", "Unauthorized request - reason of failure: the tenant is not known"
        )
    if resource_by_uri(str(claims.get("aud", ""))) != resource:
        raise AccessDenied(
            403, "Forbidden", f"The access token audience '{claims.get('aud')}' is not valid for this API"
        )
    roles = tuple(str(r) for r in claims.get("roles") or [] if isinstance(r, str))
    return Caller(tid, str(claims.get("appid") or claims.get("azp") or ""), roles)


def _verify_mde(state: EmulatorState, token: str) -> Caller:
    from mdekit.emulator.defender.auth import authenticate
    from mdekit.emulator.defender.wire import ApiFailure

    try:
        caller = authenticate(state, token)
    except ApiFailure as failure:
        raise AccessDenied(failure.status, failure.code, failure.message, failure.headers) from None
    return Caller(caller.tenant_id, caller.app_id, caller.roles)


def check_access(state: EmulatorState, token: str | None, op: Operation, resource: ResourceApp) -> Caller:
    """Authenticate (401/403 audience), authorize (403 roles) and count the call (429)."""
    if not token:
        raise AccessDenied(
            401, "Unauthorized", "Unauthorized request - reason of failure: missing bearer token"
        )
    caller = _verify_mde(state, token) if resource == MDE else _verify_other(state, token, resource)
    if not any(r in caller.roles for r in op.roles):
        raise AccessDenied(
            403,
            "Forbidden",
            f"Missing application roles. API required roles: {', '.join(op.roles)}, "
            f"application roles: {', '.join(caller.roles)}.",
        )
    # Advanced-hunting quotas are per tenant (service-facts §5.3): every app of a tenant shares them.
    retry_after = state.defender.throttle.hit(caller.tenant_id, "*", op)
    if retry_after is not None:
        raise AccessDenied(
            429,
            "TooManyRequests",
            f"API calls quota exceeded! maximum allowed {op.limit.per_minute} per 00:01:00 "
            f"and {op.limit.per_hour} per 01:00:00. Try again in {retry_after} seconds.",
            {"Retry-After": str(retry_after)},
        )
    return caller
