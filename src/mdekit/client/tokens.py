"""Token lifecycle: one token reused for its lifetime, refreshed before expiry, never stampeded.

Works with any azure-identity style credential (``get_token(*scopes)`` returning an object with
``.token`` and ``.expires_on``). The sync provider holds a ``threading.Lock`` and the async one an
``asyncio.Lock``, re-checking the cache after acquiring it, so N concurrent callers that find the
token stale cause exactly one request to the token endpoint.
"""

from __future__ import annotations

import asyncio
import inspect
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mdekit.catalog import Operation
from mdekit.client.core import Reply, decode_claims, error_from_reply
from mdekit.errors import AuthenticationError, MdeError, PermissionMissingError, register_secret

__all__ = ["AsyncTokenProvider", "Token", "TokenProvider", "refresh_due", "refused_again"]


@dataclass(frozen=True)
class Token:
    """An access token plus what the client reads from it (roles for the pre-flight check)."""

    value: str
    expires_on: float
    claims: dict[str, Any] | None
    obtained_at: float = 0.0

    def __repr__(self) -> str:  # never show the token itself
        return f"Token(expires_on={self.expires_on}, roles={self.roles!r})"

    @property
    def roles(self) -> tuple[str, ...]:
        """The ``roles`` claim (empty for opaque tokens)."""
        raw = (self.claims or {}).get("roles") or ()
        return tuple(str(r) for r in raw) if isinstance(raw, list | tuple) else ()


def refresh_due(expires_on: float, now: float, skew: float) -> bool:
    """True when a token expiring at *expires_on* should be replaced at *now*.

    The caller picks *skew* (at most half the token's lifetime, so short tokens are still reused).
    """
    return now >= expires_on - skew


def _to_token(raw: Any, now: float) -> Token:
    value = getattr(raw, "token", None)
    expires_on = getattr(raw, "expires_on", None)
    if not isinstance(value, str) or not isinstance(expires_on, int | float):
        raise AuthenticationError(
            "the credential returned no usable access token (need .token and .expires_on)"
        )
    claims = decode_claims(value)
    if claims is None:  # an opaque token has no shape the scrubber knows: mask its value
        register_secret(value)
    # The token's own exp is on the issuer's clock; expires_on was computed on ours (they may differ).
    exp = (claims or {}).get("exp")
    return Token(value, float(exp) if isinstance(exp, int | float) else float(expires_on), claims, now)


def _translate(exc: Exception) -> MdeError:
    """Any credential failure (azure-identity, msal, network) as an mdekit error."""
    from mdekit.auth.credentials import explain_aadsts, token_error

    if isinstance(exc, MdeError):
        return exc
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    codes = tuple(int(c) for c in re.findall(r"AADSTS(\d+)", text))
    return token_error(f"could not get a token: {text}", hint=explain_aadsts(codes), codes=codes)


#: Why a caching credential hands back a token the API refused, and what to do (401 / missing roles).
_CACHED = (
    "the credential returned the same token again: it caches tokens for their lifetime "
    "(azure-identity does), so a change made after the token was issued is seen only in a new token"
)
_AFTER_CHANGE = "create a new credential (or wait until its token expires)"


def refused_again(reply: Reply, op: Operation, token: Token) -> MdeError:
    """The error for a refused token when the credential returns the same one on refresh.

    A "missing roles" 403 is a :class:`PermissionMissingError` (roles are fixed when a token is
    issued); a 401 is an :class:`AuthenticationError` whose hint names the likely cause: admin
    consent not (yet) granted or revoked in the tenant.
    """
    from mdekit.auth.credentials import token_error

    error = error_from_reply(reply, op, granted=token.roles)
    if isinstance(error, PermissionMissingError):
        return PermissionMissingError(
            f"{error.message} Note: {_CACHED}: after granting, {_AFTER_CHANGE}.",
            operation=error.operation, required=error.required, granted=error.granted, sent=True,
        )  # fmt: skip
    hint = (
        "admin consent for this app is missing or was revoked in this tenant, or the token is for "
        f"another tenant or audience; {_CACHED}: after granting consent (mde consent-url), {_AFTER_CHANGE}"
    )
    status = getattr(error, "status", None)
    return token_error(error.message, hint=hint, error=getattr(error, "code", None), status=status)


class TokenProvider:
    """Caches the token of *credential* for *scope*; thread-safe.

    ``clock`` returns epoch seconds (tests pass the emulator's virtual clock); ``skew`` is how many
    seconds before ``expires_on`` a fresh token is requested.
    """

    def __init__(
        self, credential: Any, scope: str, *, clock: Callable[[], float] = time.time, skew: float = 300.0
    ) -> None:
        self.credential = credential
        self.scope = scope
        self.clock = clock
        self.skew = skew
        self.requests = 0  #: how many times the credential was asked (benchmarks, tests)
        self._token: Token | None = None
        self._lock = threading.Lock()

    def get(self, *, stale: Token | None = None) -> Token:
        """The cached token, or a new one if it is due (or equals *stale*, a token the API refused).

        After a refusal a caching credential may hand back the same token: it is returned as is,
        and the request flow turns the refusal into the error that explains it (:func:`refused_again`).
        """
        token = self._token
        if token is not None and token is not stale and not self._due(token):
            return token
        with self._lock:
            token = self._token
            if token is None or token is stale or (stale is None and self._due(token)):
                token = self._fetch(stale)
                self._token = token
            return token

    def _due(self, token: Token) -> bool:
        # a short-lived token is refreshed after half its lifetime rather than on every call
        skew = min(self.skew, max(0.0, (token.expires_on - token.obtained_at) / 2))
        return refresh_due(token.expires_on, self.clock(), skew)

    def _fetch(self, stale: Token | None) -> Token:
        self.requests += 1
        try:
            token = _to_token(self._request(force=stale is not None), self.clock())
        except Exception as exc:
            raise _translate(exc) from None
        return token  # may equal *stale* (a caching credential): the request flow explains that

    def _request(self, *, force: bool) -> Any:
        # mdekit's own credentials accept force=True (skip any cache); foreign ones are asked plainly.
        if force and _accepts_force(self.credential.get_token):
            return self.credential.get_token(self.scope, force=True)
        return self.credential.get_token(self.scope)

    def invalidate(self) -> None:
        """Forget the cached token."""
        with self._lock:
            self._token = None


def _accepts_force(fn: Any) -> bool:
    try:
        return "force" in inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False


class AsyncTokenProvider:
    """The async twin of :class:`TokenProvider` (sync or async credentials)."""

    def __init__(
        self, credential: Any, scope: str, *, clock: Callable[[], float] = time.time, skew: float = 300.0
    ) -> None:
        self._sync = TokenProvider(credential, scope, clock=clock, skew=skew)
        self._lock = asyncio.Lock()

    @property
    def requests(self) -> int:
        """How many times the credential was asked."""
        return self._sync.requests

    async def get(self, *, stale: Token | None = None) -> Token:
        """As :meth:`TokenProvider.get`, awaiting async credentials."""
        p = self._sync
        token = p._token
        if token is not None and token is not stale and not p._due(token):
            return token
        async with self._lock:
            token = p._token
            if token is None or token is stale or (stale is None and p._due(token)):
                token = await self._fetch(stale)
                p._token = token
            return token

    async def _fetch(self, stale: Token | None) -> Token:
        p = self._sync
        p.requests += 1
        try:
            if inspect.iscoroutinefunction(p.credential.get_token):
                raw = p._request(force=stale is not None)
            else:  # a blocking credential must not stall the event loop
                raw = await asyncio.to_thread(p._request, force=stale is not None)
            if inspect.isawaitable(raw):
                raw = await raw
            token = _to_token(raw, p.clock())
        except Exception as exc:
            raise _translate(exc) from None
        return token
