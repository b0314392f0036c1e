"""The client's protocol logic, without I/O: calls, replies, permission pre-flight, error translation.

Everything here is a pure function or an immutable record, unit-tested without a network. The sync
and async clients share it through :mod:`mdekit.client.flow`.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Generic, Protocol, TypeVar
from urllib.parse import quote

from mdekit.catalog import MDE, Operation, operation
from mdekit.errors import (
    ActionAlreadyPendingError,
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    ForbiddenError,
    MdeError,
    NotFoundError,
    PermissionMissingError,
    RetiredApiError,
    ServerError,
    ThrottledError,
)

__all__ = [
    "ACTION_TYPES",
    "Call",
    "Reply",
    "Unread",
    "check_permission",
    "decode_claims",
    "error_from_reply",
    "expand_path",
    "grant_instructions",
    "make_call",
    "retry_after_seconds",
]

T = TypeVar("T")

#: Operation name -> the MachineAction ``type`` it creates (for pending-action look-ups).
ACTION_TYPES: dict[str, str] = {
    "actions.isolate": "Isolate",
    "actions.unisolate": "Unisolate",
    "actions.restrict": "RestrictCodeExecution",
    "actions.unrestrict": "UnrestrictCodeExecution",
    "actions.scan": "RunAntiVirusScan",
    "actions.collect": "CollectInvestigationPackage",
    "actions.quarantine": "StopAndQuarantineFile",
    "actions.offboard": "Offboard",
    "actions.live_response": "LiveResponse",
}


class Unread(Protocol):
    """A 2xx answer's body still on the connection (a page requested ahead: see :class:`Reply`)."""

    def read(self) -> bytes:
        """The whole body (a TransportError if the connection fails meanwhile); closes it."""
        ...

    def close(self) -> None:
        """Drop the body unread (the connection is closed, not reused)."""
        ...


@dataclass(frozen=True)
class Reply:
    """An HTTP answer reduced to what the protocol logic needs (header names lower-case).

    A page requested ahead on a helper thread arrives with its body *unread* (``content`` empty):
    the pager reads it with :meth:`complete` in its own thread, so the helper never competes with
    the caller for the interpreter while the body streams in.
    """

    status: int
    headers: Mapping[str, str]
    content: bytes = field(repr=False)  # may hold a download link's signature: never in a repr
    unread: Unread | None = field(default=None, repr=False, compare=False)

    def __repr__(self) -> str:
        return f"Reply(status={self.status}, {len(self.content)} bytes)"

    def complete(self) -> Reply:
        """This reply with its whole body read (itself if it has no unread body)."""
        if self.unread is None:
            return self
        return Reply(self.status, self.headers, self.unread.read())

    def discard(self) -> None:
        """Drop an unread body (the answer is not wanted)."""
        if self.unread is not None:
            self.unread.close()

    def json(self) -> Any:
        """The body as JSON; ``None`` for an empty body, the raw text if it is not JSON."""
        if not self.content.strip():
            return None
        try:
            return json.loads(self.content)
        except ValueError:
            return self.content.decode("utf-8", "replace")


def _identity(value: Any) -> Any:
    return value


@dataclass(frozen=True)
class Call(Generic[T]):
    """One API call, fully described: operation, concrete path, query, body and result parser.

    ``machine_id`` is set for calls that create machine actions (pending-action look-ups).
    """

    op: Operation
    path: str
    params: Mapping[str, str] = field(default_factory=dict)
    body: Any = field(default=None, repr=False)  # may carry secrets (live-response arguments)
    parse: Callable[[Any], T] = field(default=_identity, repr=False)
    machine_id: str | None = None

    @property
    def action_type(self) -> str | None:
        """The MachineAction ``type`` this call creates, if any."""
        return ACTION_TYPES.get(self.op.name)


def expand_path(op: Operation, **values: str) -> str:
    """Fill the operation's path template; each value is percent-encoded as one path segment."""
    path = op.path
    for key, value in values.items():
        path = path.replace("{" + key + "}", quote(str(value), safe="@:-_.~"))
    if "{" in path.replace("$", ""):
        raise ValueError(f"unfilled path parameter in {path!r}")
    return path


def make_call(
    name: str,
    parse: Callable[[Any], T] = _identity,
    *,
    params: Mapping[str, Any] | None = None,
    body: Any = None,
    **path: str,
) -> Call[T]:
    """Build a :class:`Call` for catalogue operation *name*; ``None`` query values are dropped."""
    op = operation(name)
    query = {k: _query_value(v) for k, v in (params or {}).items() if v is not None}
    machine_id = path.get("id") if op.creates_action else None
    return Call(op, expand_path(op, **path), query, body, parse, machine_id)


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


# -- tokens -------------------------------------------------------------------------------------


def decode_claims(token: str) -> dict[str, Any] | None:
    """The payload of a JWT *without* checking its signature; ``None`` if it is not a JWT.

    The client only reads ``roles`` for the pre-flight check; the API verifies the signature.
    """
    parts = token.split(".")
    if len(parts) != 3:
        return None
    try:
        raw = base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4))
        claims = json.loads(raw)
    except ValueError:
        return None
    return claims if isinstance(claims, dict) else None


# -- permissions --------------------------------------------------------------------------------


def grant_instructions(role: str, resource: str = MDE.name) -> str:
    """Where in the Azure portal an administrator grants application permission *role*."""
    return (
        "Azure portal → App registrations → your app → API permissions → Add a permission → "
        f"APIs my organization uses → {resource} → Application permissions → {role} → "
        "Grant admin consent"
    )


def _missing_message(op: Operation, granted: tuple[str, ...], *, sent: bool) -> str:
    wanted = " or ".join(op.roles)
    when = "the API refused it" if sent else "not sent"
    have = ", ".join(granted) if granted else "none"
    return (
        f"{op.name} ({op.method} {op.path}) needs the application permission {wanted}; "
        f"the token's roles are: {have} ({when}). "
        f"To grant it: {grant_instructions(op.roles[0], op.resource)}. "
        "Then request a new token (roles are fixed when a token is issued)."
    )


def check_permission(op: Operation, claims: Mapping[str, Any] | None) -> None:
    """Raise :class:`PermissionMissingError` if the token's ``roles`` allow none of ``op.roles``.

    Opaque (non-JWT) tokens and operations without roles are let through: the server decides.
    """
    if claims is None or not op.roles:
        return
    raw = claims.get("roles") or ()
    granted = tuple(str(r) for r in raw) if isinstance(raw, list | tuple) else ()
    if any(role in granted for role in op.roles):
        return
    raise PermissionMissingError(
        _missing_message(op, granted, sent=False), operation=op.name, required=op.roles, granted=granted
    )


# -- errors -------------------------------------------------------------------------------------


def retry_after_seconds(headers: Mapping[str, str], now: float | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date relative to *now*); ``None`` if absent."""
    value = headers.get("retry-after")
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value).timestamp()
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, when - now) if now is not None else None


def _envelope(body: Any) -> tuple[str | None, str, str | None]:
    """(code, message, target) from an MDE ``{"error": {...}}`` envelope, tolerant of odd bodies."""
    if isinstance(body, dict):
        err = body.get("error", body)
        if isinstance(err, dict):
            code = err.get("code")
            message = err.get("message") or err.get("error_description") or ""
            target = err.get("target")
            return (str(code) if code else None, str(message), str(target) if target else None)
        if isinstance(err, str):
            return err, str(body.get("error_description") or body.get("message") or ""), None
    if isinstance(body, str):
        return None, body[:300], None
    return None, "", None


_STATUS_CLASSES: dict[int, type[ApiError]] = {
    400: BadRequestError,
    403: ForbiddenError,
    404: NotFoundError,
    409: ConflictError,
    410: RetiredApiError,
}


def error_from_reply(reply: Reply, op: Operation | None = None, *, granted: tuple[str, ...] = ()) -> MdeError:
    """Translate an error answer into the mdekit exception a user sees."""
    body = reply.json()
    code, message, target = _envelope(body)
    what = f"{op.method} {op.path}" if op else "request"
    text = (
        f"{what} failed: HTTP {reply.status}"
        + (f" {code}" if code else "")
        + (f": {message}" if message else "")
    )
    kw: dict[str, Any] = {"status": reply.status, "code": code, "target": target, "body": body}
    if reply.status == 401:
        return AuthenticationError(
            text, error=code, status=401, hint="the API refused the token (expired, wrong audience or tenant)"
        )
    if reply.status == 403 and op is not None and "missing application roles" in message.lower():
        return PermissionMissingError(
            _missing_message(op, granted, sent=True),
            operation=op.name,
            required=op.roles,
            granted=granted,
            sent=True,
        )
    if reply.status == 400 and code == "ActiveRequestAlreadyExists":
        return ActionAlreadyPendingError(text, **kw)
    if reply.status == 429:
        return ThrottledError(text, retry_after=retry_after_seconds(reply.headers), **kw)
    if reply.status >= 500:
        return ServerError(text, **kw)
    return _STATUS_CLASSES.get(reply.status, ApiError)(text, **kw)
