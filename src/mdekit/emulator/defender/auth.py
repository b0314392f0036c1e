"""Who is calling: bearer-token checks, application-role checks and throttling for every ``/api`` call.

Order as the service applies it: a missing, malformed, expired or foreign token is 401
``Unauthorized``; a valid token for another resource is 403; a token without one of the
operation's roles (from :data:`mdekit.catalog.OPERATIONS`) is 403 ``Forbidden``; then the call
counts against the operation's limits (429 ``TooManyRequests`` + ``Retry-After``).

The audience checked is the operation's resource: WindowsDefenderATP for the MDE API, Microsoft
Threat Protection for the Defender XDR incidents (``/api/incidents``) that share its host and
error envelope - so a WindowsDefenderATP token there is 403 as any foreign audience is.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.security.utils import get_authorization_scheme_param

from mdekit.catalog import MDE, Operation, ResourceApp, operation, resource_named
from mdekit.emulator.defender.wire import ApiFailure
from mdekit.emulator.entra.keys import InvalidToken

if TYPE_CHECKING:
    from mdekit.emulator.state import EmulatorState

__all__ = [
    "Caller",
    "TokenRejected",
    "authenticate",
    "authorize",
    "bearer_token",
    "checker",
    "require",
    "verify_caller",
]

_GUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.IGNORECASE)
_bearer = HTTPBearer(auto_error=False, description="An app-only access token for the MDE (or XDR) API")
_REASONS = {
    "malformed": "the token is malformed",
    "signature": "the token signature is invalid",
    "expired": "the token is expired",
    "not_yet_valid": "the token is not yet valid",
    "issuer": "the token issuer is invalid",
}


@dataclass(frozen=True)
class Caller:
    """The application calling, from its verified token; for a user's (delegated) token also
    the user's object id and the token's ``scp`` scopes."""

    tenant_id: str
    app_id: str
    roles: tuple[str, ...]
    display_name: str
    scopes: tuple[str, ...] = ()
    user_id: str | None = None

    def has(self, *roles: str) -> bool:
        """Whether the token carries any of *roles*."""
        return any(r in self.roles for r in roles)

    def has_scope(self, *scopes: str) -> bool:
        """Whether the (user) token carries any of the delegated *scopes*."""
        return any(s in self.scopes for s in scopes)


class TokenRejected(Exception):
    """Why a bearer token was refused: ``kind`` (``missing``, ``malformed``, ``signature``,
    ``expired``, ``not_yet_valid``, ``issuer``, ``tenant``, ``audience``, ``app``), a readable
    ``reason``, and for ``audience`` the ``aud`` the token carried.

    Each API turns it into its own answer: MDE and XDR 401 ``Unauthorized`` (403 for an audience),
    Graph 401 ``InvalidAuthenticationToken`` (see :mod:`mdekit.emulator.graph.auth`).
    """

    def __init__(self, kind: str, reason: str, audience: str | None = None) -> None:
        super().__init__(reason)
        self.kind, self.reason, self.audience = kind, reason, audience


def _unauthorized(reason: str) -> ApiFailure:
    return ApiFailure(401, "Unauthorized", f"Unauthorized request - reason of failure: {reason}")


def verify_caller(state: EmulatorState, token: str | None, resource: ResourceApp = MDE) -> Caller:
    """Verify *token* for *resource* (signature, lifetime, issuer, tenant, audience, app); raise
    :class:`TokenRejected`."""
    if not token:
        raise TokenRejected("missing", "the Authorization header is missing or is not a Bearer token")
    try:
        claims = state.signer.verify(token, now=state.clock.time())
    except InvalidToken as exc:
        kind = exc.reason if exc.reason in _REASONS else "malformed"
        raise TokenRejected(kind, _REASONS.get(exc.reason, "the token is invalid")) from None
    tid = str(claims.get("tid", ""))
    if not _GUID.match(tid) or claims.get("iss") != f"https://sts.windows.net/{tid}/":
        raise TokenRejected("issuer", "the token issuer is invalid")
    # One directory snapshot for the three reads below: a change check (a query) once, not per read.
    with state.directory.snapshot():
        name = _check_directory(state, claims, tid, resource)
    roles = claims.get("roles") or []
    app_id = str(claims.get("appid") or claims.get("azp") or "")
    scp = claims.get("scp")
    user = str(claims.get("oid") or "") if claims.get("idtyp") == "user" or isinstance(scp, str) else None
    return Caller(
        tid,
        app_id,
        tuple(str(r) for r in roles if isinstance(r, str)),
        str(name or app_id),
        tuple(scp.split()) if isinstance(scp, str) else (),
        user,
    )


def _check_directory(
    state: EmulatorState, claims: dict[str, Any], tid: str, resource: ResourceApp
) -> str | None:
    """The tenant, audience and app checks of :func:`verify_caller`; the app's display name."""
    if not state.directory.tenant_exists(tid):
        raise TokenRejected("tenant", "the tenant is not known")
    aud = str(claims.get("aud", "")).rstrip("/").lower()
    if aud != resource.app_id and aud not in {u.lower() for u in resource.identifier_uris}:
        raise TokenRejected("audience", "the token audience is invalid", str(claims.get("aud")))
    app_id = str(claims.get("appid") or claims.get("azp") or "")
    if not app_id or not state.directory.service_principal_active(tid, app_id):
        raise TokenRejected("app", "the application is disabled or deleted in the tenant")
    return state.directory.display_name(tid, app_id)


def authenticate(state: EmulatorState, token: str | None, resource: ResourceApp = MDE) -> Caller:
    """Verify *token* for *resource* (default the MDE one); raise :class:`ApiFailure` 401/403."""
    try:
        return verify_caller(state, token, resource)
    except TokenRejected as exc:
        if exc.kind == "audience":
            raise ApiFailure(
                403, "Forbidden", f"The access token audience '{exc.audience}' is not valid for this API"
            ) from None
        raise _unauthorized(exc.reason) from None


def authorize(op: Operation, caller: Caller) -> None:
    """403 ``Forbidden`` unless the caller has one of *op*'s roles (message as the service words it)."""
    if caller.has(*op.roles):
        return
    raise ApiFailure(
        403,
        "Forbidden",
        f"Missing application roles. API required roles: {', '.join(op.roles)}, "
        f"application roles: {', '.join(caller.roles)}.",
    )


def bearer_token(request: Request) -> str | None:
    """The bearer token of *request*'s ``Authorization`` header, as ``HTTPBearer(auto_error=False)``
    reads it (``None`` when missing or another scheme)."""
    authorization = request.headers.get("Authorization")
    scheme, token = get_authorization_scheme_param(authorization)
    if not (authorization and scheme and token) or scheme.lower() != "bearer":
        return None
    return token


def checker(op_name: str) -> Callable[[Request, str | None], Caller]:
    """``check(request, token)``: authenticate, authorize and throttle for catalogue operation
    *op_name* (what :func:`require` does as a FastAPI dependency; the list fast path calls it directly)."""
    op = operation(op_name)
    resource = resource_named(op.resource)  # MDE, or Microsoft Threat Protection for the XDR incidents

    def check(request: Request, token: str | None) -> Caller:
        state: EmulatorState = request.app.state.emu
        caller = authenticate(state, token, resource)
        request.state.tenant_id = caller.tenant_id
        request.state.app_id = caller.app_id
        authorize(op, caller)
        retry_after = state.defender.throttle.hit(caller.tenant_id, caller.app_id, op)
        if retry_after is not None:
            raise ApiFailure(
                429,
                "TooManyRequests",
                f"API calls quota exceeded! Maximum admitted: {op.limit.per_minute} per minute and "
                f"{op.limit.per_hour} per hour. Try again in {retry_after} seconds.",
                headers={"Retry-After": str(retry_after)},
            )
        return caller

    return check


def require(op_name: str) -> Callable[..., Caller]:
    """A FastAPI dependency: authenticate, authorize and throttle for catalogue operation *op_name*."""
    check = checker(op_name)

    def dependency(
        request: Request, credentials: HTTPAuthorizationCredentials | None = Depends(_bearer)
    ) -> Caller:
        token = credentials.credentials if credentials and credentials.scheme.lower() == "bearer" else None
        return check(request, token)

    dependency.__name__ = f"require_{op_name.replace('.', '_')}"
    return dependency
