"""The token endpoints' HTTP layer: one implementation, reached two ways.

:func:`answer` turns a raw request (version, tenant segment, Host, urlencoded body, Authorization)
into ``(status, JSON bytes)``; the RSA signature (most of a token's cost, and it releases the GIL)
runs in a small thread pool so the event loop keeps parsing and checking other requests meanwhile.

:class:`TokenEndpointMiddleware` serves ``POST /{tenant}/oauth2/token`` and
``POST /{tenant}/oauth2/v2.0/token`` straight from ASGI, skipping FastAPI's route matching
(~30 routes tried before these) and request machinery, which cost as much as the checks
themselves. It sits inside the journal and fault middlewares, so both still apply. The FastAPI
routes in :mod:`routes` call the same :func:`answer` and serve these paths when the middleware
is not installed.
"""

from __future__ import annotations

import asyncio
import os
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any
from urllib.parse import unquote_plus

import orjson

from mdekit.emulator.entra import delegated
from mdekit.emulator.entra.errors import EntraError
from mdekit.emulator.entra.token_service import TokenRequest, basic_credentials, check_request, token_body
from mdekit.emulator.state import EmulatorState

__all__ = ["NO_STORE", "TokenEndpointMiddleware", "answer", "error_answer"]

NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}
_RAW_HEADERS = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store, no-cache"),
    (b"pragma", b"no-cache"),
]
# The same paths the FastAPI routes declare ({tenant} = one path segment).
_TOKEN_PATH = re.compile(r"^/([^/]+)/oauth2/(v2\.0/)?token$")

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _signing_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(
                max_workers=max(2, os.cpu_count() or 2), thread_name_prefix="mdekit-sign"
            )
        return _pool


def error_answer(state: EmulatorState, exc: EntraError) -> tuple[int, bytes]:
    """The service's JSON error answer for *exc*."""
    return exc.status, orjson.dumps(exc.body(state.clock.now()))


async def answer(state: EmulatorState, req: TokenRequest) -> tuple[int, bytes]:
    """Check *req*, sign its token off the event loop; ``(status, JSON body)`` either way."""
    if req.form.get("grant_type") in delegated.GRANTS:  # a user's sign-in (device code, refresh)
        return await _user_answer(state, req)
    try:
        claims, target = check_request(state, req)
    except EntraError as exc:
        return error_answer(state, exc)
    loop = asyncio.get_running_loop()
    token = await loop.run_in_executor(_signing_pool(), state.signer.mint, claims)
    return 200, orjson.dumps(token_body(req, claims, token, state.clock.time(), target))


async def _user_answer(state: EmulatorState, req: TokenRequest) -> tuple[int, bytes]:
    """A device-code poll or refresh-token redemption; its tokens are signed off the loop too."""
    try:
        issue = delegated.check_grant(state, req)
    except EntraError as exc:
        return error_answer(state, exc)
    loop = asyncio.get_running_loop()
    token, id_token = await loop.run_in_executor(_signing_pool(), issue.sign, state.signer.mint)
    return 200, orjson.dumps(issue.shape(token, id_token))


def parse_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body (last value wins, blanks kept).

    Same result as ``dict(parse_qsl(text, keep_blank_values=True))``, but plain pieces (most of
    them: GUIDs, grant types) skip the unquoting, which showed in the token service's profile.
    """
    form: dict[str, str] = {}
    for piece in body.decode("utf-8", "replace").split("&"):
        if not piece:
            continue
        name, _, value = piece.partition("=")
        form[_unquote(name)] = _unquote(value)
    return form


def _unquote(text: str) -> str:
    return unquote_plus(text, errors="replace") if "%" in text or "+" in text else text


def _header(scope: Any, name: bytes) -> str | None:
    for key, value in scope.get("headers") or ():
        if key == name:
            return str(value.decode("latin-1"))
    return None


async def _read_body(receive: Any) -> bytes | None:
    """The whole request body, or ``None`` if the client went away first."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return None
        chunks.append(message.get("body", b""))
        if not message.get("more_body"):
            return b"".join(chunks)


class TokenEndpointMiddleware:
    """ASGI middleware answering the two token endpoints directly (see the module docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        match = None
        if (
            scope["type"] == "http"
            and scope["method"] == "POST"
            and not scope["path"].startswith("/_emulator")
        ):
            match = _TOKEN_PATH.match(scope["path"])
        if match is None:
            await self.app(scope, receive, send)
            return
        body = await _read_body(receive)
        if body is None:
            return
        host = _header(scope, b"host")
        if host is None:
            server = scope.get("server") or ("127.0.0.1", 0)
            host = f"{server[0]}:{server[1]}"
        version = "v2" if match.group(2) else "v1"
        req = TokenRequest(
            version,
            match.group(1),
            host,
            parse_form(body),
            basic_credentials(_header(scope, b"authorization")),
        )
        state: EmulatorState = scope["app"].state.emu
        try:
            status, payload = await answer(state, req)
        finally:
            # The request journal names the tenant and app, even for refused requests.
            st = scope.setdefault("state", {})
            st["tenant_id"], st["app_id"] = req.tenant_id, req.app_id
        headers = [*_RAW_HEADERS, (b"content-length", str(len(payload)).encode())]
        await send({"type": "http.response.start", "status": status, "headers": headers})
        await send({"type": "http.response.body", "body": payload})
