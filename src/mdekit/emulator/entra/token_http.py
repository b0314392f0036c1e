"""The token endpoints' HTTP layer: one implementation, reached two ways.

:func:`answer` turns a raw request (version, tenant segment, Host, urlencoded body, Authorization)
into ``(status, JSON bytes)``; the RSA signature (most of a token's cost) is made off the event
loop so it keeps parsing and checking other requests meanwhile: by the signer processes of a served
emulator (:mod:`.signprocs`, issue 19: no GIL shared with the loop), else, and for device-code and
refresh-token grants, in a few signing threads (the signature releases the GIL).

:class:`TokenEndpointMiddleware` serves ``POST /{tenant}/oauth2/token`` and
``POST /{tenant}/oauth2/v2.0/token`` straight from ASGI, skipping FastAPI's route matching
(~30 routes tried before these) and request machinery, which cost as much as the checks
themselves. :class:`~mdekit.emulator.app.EmulatorApp` puts it behind the journal, fault and
body-limit middlewares only (issue 19), so all three still apply. The FastAPI routes in
:mod:`routes` call the same :func:`answer` and serve these paths when the middleware is not
installed.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import queue
import re
import threading
from collections.abc import Callable
from typing import Any, TypeVar
from urllib.parse import unquote_plus

import orjson

from mdekit.emulator.entra import delegated
from mdekit.emulator.entra.errors import EntraError
from mdekit.emulator.entra.keys import TokenSigner
from mdekit.emulator.entra.signprocs import SignerLost
from mdekit.emulator.entra.token_service import TokenRequest, basic_credentials, check_request, token_body
from mdekit.emulator.state import EmulatorState

__all__ = ["NO_STORE", "TokenEndpointMiddleware", "answer", "error_answer", "is_token_request"]

NO_STORE = {"Cache-Control": "no-store, no-cache", "Pragma": "no-cache"}
_RAW_HEADERS = [
    (b"content-type", b"application/json"),
    (b"cache-control", b"no-store, no-cache"),
    (b"pragma", b"no-cache"),
]
T = TypeVar("T")
# The same paths the FastAPI routes declare ({tenant} = one path segment).
_TOKEN_PATH = re.compile(r"^/([^/]+)/oauth2/(v2\.0/)?token$")


class _SigningThreads:
    """Daemon threads that run signatures handed over by the event loop.

    Leaner than ``loop.run_in_executor`` (issue 19): one C queue put and one wake-up of the loop
    per token, instead of a ``concurrent.futures`` future, a condition, a semaphore and two
    chained callbacks. The RSA signature releases the GIL, so the loop keeps parsing and checking
    other requests while a token is signed.
    """

    def __init__(self) -> None:
        self._reset()
        # A forked child has none of the parent's threads: it starts its own on first use.
        os.register_at_fork(after_in_child=self._reset)

    def _reset(self) -> None:
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._started = False
        self._lock = threading.Lock()

    def run(self, fn: Callable[..., T], *args: Any) -> asyncio.Future[T]:
        """``fn(*args)`` in a signing thread; the result (or exception) as a future of this loop."""
        if not self._started:
            self._start()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[T] = loop.create_future()
        self._queue.put((loop, future, fn, args))
        return future

    def _start(self) -> None:
        with self._lock:
            if not self._started:
                for n in range(max(2, os.cpu_count() or 2)):
                    threading.Thread(target=self._work, name=f"mdekit-sign-{n}", daemon=True).start()
                self._started = True

    def _work(self) -> None:
        while True:
            loop, future, fn, args = self._queue.get()
            try:
                outcome: tuple[Any, BaseException | None] = (fn(*args), None)
            except BaseException as exc:  # handed to the awaiting request, raised there
                outcome = (None, exc)
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile: nobody waits
                loop.call_soon_threadsafe(_settle, future, *outcome)


def _settle(future: asyncio.Future[Any], result: Any, exc: BaseException | None) -> None:
    if future.cancelled():  # the client went away
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)


_signing = _SigningThreads()


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
    token = await _mint(state.signer, claims)
    return 200, orjson.dumps(token_body(req, claims, token, state.clock.time(), target))


async def _mint(signer: TokenSigner, claims: dict[str, Any]) -> str:
    """*claims* signed by a signer process when the server runs some, else in a signing thread."""
    processes = signer.processes
    if processes is None:
        return await _signing.run(signer.mint, claims)
    signing_input = signer.signing_input(claims)
    pending = processes.sign(signing_input)
    try:
        if pending is not None:
            return signer.token(signing_input, await pending)
    except SignerLost:
        pass  # that signer exited: this one token is signed here, later ones by the others
    return signer.token(signing_input, await _signing.run(signer.sign, signing_input))


async def _user_answer(state: EmulatorState, req: TokenRequest) -> tuple[int, bytes]:
    """A device-code poll or refresh-token redemption; its tokens are signed off the loop too."""
    try:
        issue = delegated.check_grant(state, req)
    except EntraError as exc:
        return error_answer(state, exc)
    token, id_token = await _signing.run(issue.sign, state.signer.mint)
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


def _token_match(scope: Any) -> re.Match[str] | None:
    if scope["type"] != "http" or scope["method"] != "POST" or scope["path"].startswith("/_emulator"):
        return None
    return _TOKEN_PATH.match(scope["path"])


def is_token_request(scope: Any) -> bool:
    """Whether *scope* is a POST to a token endpoint, which :class:`TokenEndpointMiddleware` answers."""
    return _token_match(scope) is not None


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
        match = _token_match(scope)
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
