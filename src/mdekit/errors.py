"""The one exception hierarchy of mdekit.

Every error mdekit raises derives from :class:`MdeError`; third-party exceptions (httpx,
azure-identity, msal, PyJWT) are translated at the boundary and never leak out.

::

    MdeError
    ├── ConfigurationError          bad argument, profile or environment (CLI exit 2)
    ├── AuthenticationError         token could not be obtained or was refused (exit 3)
    │   └── TokenValidationError    offline inspection/verification failed
    ├── PermissionMissingError      a required application role is absent (exit 4)
    ├── ApiError                    the MDE API answered with an error envelope (exit 1)
    │   ├── BadRequestError         400 (ODataError, InvalidRequestBody, ...)
    │   │   └── ActionAlreadyPendingError   400 ActiveRequestAlreadyExists
    │   ├── ForbiddenError          403
    │   ├── NotFoundError           404
    │   ├── ConflictError           409
    │   ├── RetiredApiError         410: an API Microsoft has retired (names its replacement)
    │   ├── ThrottledError          429, carries ``retry_after`` (exit 5)
    │   └── ServerError             5xx
    ├── TransportError              connection, TLS or timeout failure (exit 1)
    └── EmulatorError               the local emulator could not start or be driven

Warnings: :class:`RetiringApiWarning` (a ``FutureWarning``) when the client falls back to an API
Microsoft is retiring (the MDE advanced-hunting API, MC1220762).

Messages never contain secrets or tokens: :func:`scrub` masks the secret values the process
registered (:func:`register_secret`) and anything shaped like a token or a client secret.
"""

from __future__ import annotations

import re
import threading
from typing import Any

__all__ = [
    "ActionAlreadyPendingError",
    "ApiError",
    "AuthenticationError",
    "BadRequestError",
    "ConfigurationError",
    "ConflictError",
    "EmulatorError",
    "ForbiddenError",
    "MdeError",
    "NotFoundError",
    "PermissionMissingError",
    "RetiredApiError",
    "RetiringApiWarning",
    "ServerError",
    "ThrottledError",
    "TokenValidationError",
    "TransportError",
    "register_secret",
    "scrub",
]

# What a secret or token looks like, never plain words: a JWT (three base64url segments); a bearer
# header's credential (token68, 16+ characters); an Entra client secret (3 characters, a digit,
# "Q~", 34 more: 40 in all); a PEM private key; and credential fields in form bodies (``client_secret=v``)
# or JSON (``"client_secret": "v"``).
_C = r"[A-Za-z0-9_~.\-]"  # a character of an Entra client secret
_FIELDS = r"client_secret|client_assertion|access_token|refresh_token|id_token|password|secret"
_SECRET_SHAPES = (
    # Entra secrets first: one may hold "eyJ" and dots, which the JWT shape would cut in two
    (re.compile(rf"(?<!{_C}){_C}{{3}}[0-9]Q~{_C}{{34}}(?![A-Za-z0-9_~\-])"), "***"),
    (re.compile(r"eyJ[A-Za-z0-9_\-]+=*\.[A-Za-z0-9_\-]+=*\.[A-Za-z0-9_\-]*=*"), "***"),
    (re.compile(r"(?i)(\bbearer\s+)[A-Za-z0-9\-._~+/]{16,}=*"), r"\1***"),
    (re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----.*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)", re.S), "***"),
    (re.compile(rf"(?i)((?:{_FIELDS})=)[^&\s\"',}}]+"), r"\1***"),
    (re.compile(rf"(?i)(\"(?:{_FIELDS})\"\s*:\s*\")[^\"]*"), r"\1***"),
)

#: Values registered as secrets (client secrets, opaque tokens, passwords) -> None; oldest first.
_KNOWN: dict[str, None] = {}
_KNOWN_LOCK = threading.Lock()
_KNOWN_MAX = 256
_KNOWN_MIN_LENGTH = 8  # shorter values would mask ordinary words


def register_secret(value: str | bytes | None) -> None:
    """Remember *value* as a secret: :func:`scrub` masks it wherever it appears from now on.

    mdekit registers the client secrets, certificate passwords and opaque tokens it handles; values
    shorter than 8 characters are ignored (masking them would hide ordinary words). The newest 256
    values are kept.
    """
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not value or len(value) < _KNOWN_MIN_LENGTH:
        return
    with _KNOWN_LOCK:
        _KNOWN.pop(value, None)
        _KNOWN[value] = None
        while len(_KNOWN) > _KNOWN_MAX:
            del _KNOWN[next(iter(_KNOWN))]


def scrub(text: str) -> str:
    """Return *text* with registered secret values and token/secret shapes replaced by ``***``."""
    with _KNOWN_LOCK:
        known = sorted(_KNOWN, key=len, reverse=True)  # a longer secret may contain a shorter one
    for value in known:
        if value in text:
            text = text.replace(value, "***")
    for pattern, replacement in _SECRET_SHAPES:
        text = pattern.sub(replacement, text)
    return text


class MdeError(Exception):
    """Root of every mdekit error. ``exit_code`` is what the ``mde`` command exits with."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(scrub(message))

    @property
    def message(self) -> str:
        """The (scrubbed) human-readable message."""
        return str(self.args[0]) if self.args else ""


class ConfigurationError(MdeError):
    """Bad argument, profile, file or environment; nothing was sent."""

    exit_code = 2


class EmulatorError(MdeError):
    """The local emulator could not be started, reached or driven."""


class TransportError(MdeError):
    """The request did not get an HTTP answer (DNS, TLS, connection reset, timeout).

    ``sent`` is ``False`` when the request provably never reached the service (the connection
    could not be made: refused, DNS, TLS handshake, no free pooled connection), so replaying it
    is safe whatever it does; ``True`` when it may have been received and acted on (a read
    timeout, a connection lost while waiting for the answer).
    """

    def __init__(self, message: str, *, sent: bool = True) -> None:
        super().__init__(message)
        self.sent = sent


class AuthenticationError(MdeError):
    """A token could not be obtained, or the API refused it (401).

    ``error`` and ``codes`` carry Entra's ``error`` string and AADSTS codes when known;
    ``hint`` is a plain-words explanation of what to fix.
    """

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        error: str | None = None,
        codes: tuple[int, ...] = (),
        hint: str | None = None,
        status: int | None = None,
    ) -> None:
        super().__init__(message)
        self.error = error
        self.codes = codes
        self.hint = hint
        self.status = status


class TokenValidationError(AuthenticationError):
    """Offline token inspection or signature verification failed; ``reason`` says which check."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class PermissionMissingError(MdeError):
    """The token lacks every application role an operation accepts (found before or after sending)."""

    exit_code = 4

    def __init__(
        self,
        message: str,
        *,
        operation: str | None = None,
        required: tuple[str, ...] = (),
        granted: tuple[str, ...] = (),
        sent: bool = False,
    ) -> None:
        super().__init__(message)
        self.operation = operation
        self.required = required
        self.granted = granted
        self.sent = sent


class ApiError(MdeError):
    """The API answered with an error envelope ``{"error": {"code", "message", "target"}}``."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: str | None = None,
        target: str | None = None,
        body: Any = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.target = target
        self.body = body


class BadRequestError(ApiError):
    """HTTP 400 (bad body, bad OData, platform not supported, ...)."""

    exit_code = 2


class ActionAlreadyPendingError(BadRequestError):
    """HTTP 400 ``ActiveRequestAlreadyExists``: the same action is already pending on the machine."""

    exit_code = 1


class ForbiddenError(ApiError):
    """HTTP 403 other than a missing role (disabled feature, disallowed operation, wrong audience)."""

    exit_code = 4


class NotFoundError(ApiError):
    """HTTP 404 ``NotFound`` / ``ResourceNotFound``."""


class ConflictError(ApiError):
    """HTTP 409."""


class RetiredApiError(ApiError):
    """HTTP 410 Gone: the API is retired; the message names the replacement and the permission it needs."""


class RetiringApiWarning(FutureWarning):
    """The client fell back to an API Microsoft is retiring; the message says what to grant to move.

    A ``FutureWarning`` so that end users see it by default; silence it with
    ``warnings.filterwarnings("ignore", category=RetiringApiWarning)``.
    """


class ThrottledError(ApiError):
    """HTTP 429 past the retry budget; ``retry_after`` is the server's advice in seconds."""

    exit_code = 5

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        kwargs.setdefault("status", 429)
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(ApiError):
    """HTTP 5xx past the retry budget."""
