"""A small Microsoft Graph client for application management, with the user's token.

Answers are plain dicts; failures become :mod:`mdekit.errors` exceptions that say what to do:
``Authorization_RequestDenied`` (403) is a :class:`~mdekit.errors.PermissionMissingError` naming the
directory roles that would allow the call; the directory's other codes keep their text. The
transport is injectable (an httpx transport, used and never closed), as everywhere in mdekit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from mdekit.auth.credentials import ssl_verify
from mdekit.errors import (
    ApiError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionMissingError,
    ServerError,
    ThrottledError,
    TransportError,
    register_secret,
)

__all__ = ["GraphCall", "GraphSession"]


@dataclass(frozen=True)
class GraphCall:
    """One Graph request: method, path (below ``/v1.0``) and JSON body."""

    method: str
    path: str
    body: dict[str, Any] | None = None

    def __str__(self) -> str:
        import json

        text = f"{self.method} {self.path}"
        return text + (
            f"\n    {json.dumps(self.body, separators=(', ', ': '))}" if self.body is not None else ""
        )


@dataclass
class GraphSession:
    """Graph at *base_url* (``https://graph.microsoft.com``; the emulator's URL for tests)."""

    base_url: str
    token: str = field(repr=False)
    verify: Any = True
    transport: Any = None
    timeout: float = 30.0
    calls: list[GraphCall] = field(default_factory=list)
    #: The directory roles that may grant what this session grants (named when Graph says 403).
    grant_roles: Sequence[str] = ()
    _client: Any = field(default=None, repr=False)

    def __post_init__(self) -> None:
        import httpx

        register_secret(self.token)
        self._client = httpx.Client(
            base_url=self.base_url.rstrip("/") + "/v1.0",
            verify=ssl_verify(self.verify),
            transport=self.transport,
            timeout=self.timeout,
            headers={"Authorization": f"Bearer {self.token}", "Accept": "application/json"},
        )

    def close(self) -> None:
        """Close the connection pool (a caller's transport stays open)."""
        if self.transport is None:
            self._client.close()

    def request(
        self, method: str, path: str, body: dict[str, Any] | None = None, params: dict[str, str] | None = None
    ) -> Any:
        """Send one request; the JSON answer (``None`` for 204), or the translated error."""
        import httpx

        self.calls.append(GraphCall(method, path, body))
        try:
            reply = self._client.request(method, path, json=body, params=params or None)
        except (httpx.HTTPError, OSError) as exc:
            raise TransportError(f"cannot reach Microsoft Graph at {self.base_url}: {exc}") from None
        if reply.status_code >= 400:
            raise _error(method, path, reply, self.grant_roles)
        return reply.json() if reply.content else None

    def get(self, path: str, **params: str) -> Any:
        return self.request("GET", path, params=params)

    def post(self, path: str, body: dict[str, Any] | None = None) -> Any:
        return self.request("POST", path, body if body is not None else {})

    def patch(self, path: str, body: dict[str, Any]) -> Any:
        return self.request("PATCH", path, body)

    def delete(self, path: str) -> Any:
        return self.request("DELETE", path)

    def list(self, path: str, **params: str) -> list[dict[str, Any]]:
        """Every item of a collection, following ``@odata.nextLink``."""
        page = self.get(path, **params)
        items = list(page.get("value", []))
        while page.get("@odata.nextLink"):
            page = self._follow(page["@odata.nextLink"])
            items += page.get("value", [])
        return items

    def _follow(self, url: str) -> Any:
        import httpx

        try:
            reply = self._client.get(url)
        except (httpx.HTTPError, OSError) as exc:
            raise TransportError(f"cannot reach Microsoft Graph at {self.base_url}: {exc}") from None
        if reply.status_code >= 400:
            raise _error("GET", url, reply, self.grant_roles)
        return reply.json()


def _error(method: str, path: str, reply: Any, grant_roles: Sequence[str]) -> Exception:
    try:
        error = reply.json().get("error") or {}
    except (ValueError, AttributeError):
        error = {}
    code = str(error.get("code") or "") if isinstance(error, dict) else ""
    message = str(error.get("message") or "") if isinstance(error, dict) else ""
    text = (
        f"Microsoft Graph refused {method} {path.split('?')[0]}: HTTP {reply.status_code} {code}: {message}"
    )
    status = reply.status_code
    if status == 401:
        return AuthenticationError(text, error=code, status=401, hint="sign in again (the token was refused)")
    if status == 403:
        return PermissionMissingError(
            text + _role_hint(path, grant_roles), required=tuple(grant_roles), sent=True
        )
    if status == 429:
        retry = reply.headers.get("Retry-After")
        return ThrottledError(
            text, retry_after=float(retry) if retry and retry.isdigit() else None, code=code
        )
    classes: dict[int, type[ApiError]] = {400: BadRequestError, 404: NotFoundError, 409: ConflictError}
    if status >= 500:
        return ServerError(text, status=status, code=code)
    return classes.get(status, ApiError)(text, status=status, code=code)


def _role_hint(path: str, roles: Sequence[str]) -> str:
    if "appRoleAssignedTo" in path:
        named = ", ".join(roles) or "an administrator role"
        return (
            f"; granting these permissions needs one of these directory roles: {named}"
            " - ask a Global Administrator to assign you one, or to run `mde setup` (what is done so far "
            "is kept: run it again afterwards to finish)"
        )
    return (
        "; you must own the app, or be an Application Administrator, Cloud Application Administrator or "
        "Global Administrator"
    )
