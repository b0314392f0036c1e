"""Who is calling Microsoft Graph: token, application role and throttling checks per operation.

Order as Graph applies it: a missing, malformed, expired token, or one for another resource, is
401 ``InvalidAuthenticationToken`` (Graph's 401 also names the authorization server in
``WWW-Authenticate``); a token without one of the operation's roles (from
:data:`mdekit.catalog.OPERATIONS`; for a user's token: one of its delegated scopes) is 403;
then the call counts against the operation's limit: 429 ``TooManyRequests`` with
``Retry-After`` (Graph's throttling page: 429 + Retry-After, body "Please retry again later.").
Graph's limits are per app per tenant and shared by a family of operations (all
``graph_alerts.*`` share the ``/security`` alert limit).

The token checks themselves are the Defender API's (:func:`mdekit.emulator.defender.auth.verify_caller`)
with Graph as the resource: one verifier, each API with its own answers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

from fastapi import Request

from mdekit.catalog import GRAPH, Operation, operation
from mdekit.emulator.defender.auth import Caller, TokenRejected, verify_caller
from mdekit.emulator.graph.errors import GraphError

__all__ = [
    "Caller",
    "Forbidden",
    "allowed",
    "directory_forbidden",
    "graph_caller",
    "require_graph",
    "security_forbidden",
]

#: Builds the 403 for a caller without the operation's roles (each Graph area words it its own way).
Forbidden = Callable[[Operation, Caller], GraphError]

_MESSAGES = {
    "missing": "Access token is empty.",
    "expired": "Lifetime validation failed, the token is expired.",
    "not_yet_valid": "Lifetime validation failed, the token is not yet valid.",
    "audience": "Access token validation failure. Invalid audience.",
    "signature": "Access token validation failure. Invalid signature.",
    "issuer": "Access token validation failure. Invalid issuer.",
}
_CHALLENGE = (
    'Bearer realm="", authorization_uri="https://login.microsoftonline.com/common/oauth2/authorize", '
    f'client_id="{GRAPH.app_id}"'
)


def _token(request: Request) -> str | None:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def graph_caller(request: Request) -> Caller:
    """The verified caller of a Graph request; 401 ``InvalidAuthenticationToken`` otherwise."""
    try:
        caller = verify_caller(request.app.state.emu, _token(request), GRAPH)
    except TokenRejected as exc:
        message = _MESSAGES.get(exc.kind, "Access token validation failure.")
        raise GraphError(
            401, "InvalidAuthenticationToken", message, headers={"WWW-Authenticate": _CHALLENGE}
        ) from None
    request.state.tenant_id, request.state.app_id = caller.tenant_id, caller.app_id
    return caller


def security_forbidden(op: Operation, caller: Caller) -> GraphError:
    """The security API's 403 (wording seen from the real service; the code is UNVERIFIED)."""
    return GraphError(
        403,
        "Forbidden",
        f"Missing application roles. API required roles: {','.join(op.roles)}, "
        f"application roles: {','.join(caller.roles)}",
    )


def directory_forbidden(op: Operation, caller: Caller) -> GraphError:
    """The directory's 403 (applications, service principals, grants): [FS:45728621416] in §4.6."""
    return GraphError(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def allowed(op: Operation, caller: Caller) -> bool:
    """Whether the token allows *op*: one of its roles (app-only) or scopes (a user's token), and
    one of ``op.also`` as well where the operation needs two permissions together."""
    if caller.user_id is not None:
        return caller.has_scope(*op.scopes) and (not op.also or caller.has_scope(*op.also))
    return caller.has(*op.roles) and (not op.also or caller.has(*op.also))


def require_graph(op_name: str, forbidden: Forbidden = security_forbidden) -> Callable[[Request], Caller]:
    """A FastAPI dependency: authenticate, authorize and throttle catalogue operation *op_name*."""
    op = operation(op_name)
    # Counted per family: Graph's limits cover "any operation on" a resource, not one method.
    bucket = dataclasses.replace(op, name=f"graph:{op.family}")

    def dependency(request: Request) -> Caller:
        caller = graph_caller(request)
        if not allowed(op, caller):
            raise forbidden(op, caller)
        retry_after = request.app.state.emu.defender.throttle.hit(caller.tenant_id, caller.app_id, bucket)
        if retry_after is not None:
            raise GraphError(
                429, "TooManyRequests", "Please retry again later.", headers={"Retry-After": str(retry_after)}
            )
        return caller

    dependency.__name__ = f"require_{op_name.replace('.', '_')}"  # the name the route/catalogue test reads
    return dependency
