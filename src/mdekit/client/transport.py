"""Drivers that run a :mod:`~mdekit.client.flow` over httpx (blocking or async), plus a sync ASGI transport.

This is the only module that touches httpx: its exceptions become :class:`mdekit.errors.TransportError`
here and nowhere else.
"""

from __future__ import annotations

import contextlib
import inspect
import os
import threading
from collections.abc import Awaitable, Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

import httpx

from mdekit.client.core import Reply
from mdekit.client.flow import Fetch, Flow, GetToken, Multipart, Reserve, Send, Sleep
from mdekit.client.ratelimit import RateLimiter
from mdekit.client.tokens import AsyncTokenProvider, TokenProvider
from mdekit.errors import TransportError

__all__ = ["AsgiTransport", "AsyncEngine", "SyncEngine", "user_agent"]


def user_agent() -> str:
    """The ``User-Agent`` mdekit sends."""
    from mdekit import __version__

    return f"mdekit/{__version__} (+httpx)"


def _reply(resp: httpx.Response) -> Reply:
    return Reply(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, resp.content)


def _transport_error(step: Send, exc: BaseException) -> TransportError:
    kind = type(exc).__name__
    detail = str(exc).splitlines()[0] if str(exc) else ""
    return TransportError(f"{step.method} {step.path}: no answer ({kind}{': ' + detail if detail else ''})")


def _request_args(step: Send) -> dict[str, Any]:
    args: dict[str, Any] = {"params": step.params, "headers": {"Authorization": f"Bearer {step.token}"}}
    if isinstance(step.body, Multipart):
        args["files"] = {step.body.part: (step.body.filename, step.body.content)}
        args["data"] = step.body.fields
    elif step.body is not None:
        args["json"] = step.body
    return args


def _fetch_error(exc: BaseException) -> TransportError:
    kind = type(exc).__name__
    detail = str(exc).splitlines()[0] if str(exc) else ""
    # the URL is left out on purpose: its signature is a secret while the link is valid
    return TransportError(f"download: no answer ({kind}{': ' + detail if detail else ''})")


class _Saver:
    """Writes a download to ``<to>.part``, renamed to *to* once complete (never a partial file)."""

    def __init__(self, to: str) -> None:
        self.final, self.part = to, to + ".part"
        self.file = open(self.part, "wb")  # noqa: SIM115 - closed in done()/abort()

    def write(self, chunk: bytes) -> None:
        self.file.write(chunk)

    def done(self) -> None:
        self.file.close()
        os.replace(self.part, self.final)

    def abort(self) -> None:
        self.file.close()
        with contextlib.suppress(OSError):
            os.unlink(self.part)


def _fetched(resp: httpx.Response, content: bytes = b"") -> Reply:
    return Reply(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, content)


_HTTP_ERRORS: tuple[type[BaseException], ...] = (httpx.HTTPError, httpx.InvalidURL, OSError)


@dataclass
class SyncEngine:
    """Performs flow steps with a blocking ``httpx.Client``."""

    http: httpx.Client
    tokens: TokenProvider
    limiter: RateLimiter | None
    sleep: Callable[[float], Any]

    def run(self, flow: Flow) -> Any:
        """Drive *flow* to its result (its exceptions propagate)."""
        value: Any = None
        try:
            while True:
                try:
                    step = flow.send(value)
                except StopIteration as stop:
                    return stop.value
                value = self._perform(step)
        finally:
            flow.close()

    def _perform(self, step: Any) -> Any:
        if isinstance(step, Send):
            try:
                return _reply(self.http.request(step.method, step.path, **_request_args(step)))
            except _HTTP_ERRORS as exc:
                return _transport_error(step, exc)
        if isinstance(step, Fetch):
            return self._fetch(step)
        if isinstance(step, GetToken):
            return self.tokens.get(stale=step.stale)
        if isinstance(step, Reserve):
            delay = self.limiter.reserve(step.op) if self.limiter is not None else 0.0
            if delay > 0:
                self.sleep(delay)
            return delay
        if isinstance(step, Sleep):
            self.sleep(step.seconds)
            return None
        raise TypeError(f"unknown step {step!r}")

    def _fetch(self, step: Fetch) -> Reply | TransportError:
        saver = None
        try:
            with self.http.stream("GET", step.url) as resp:
                if resp.status_code >= 300 or step.to is None:
                    return _fetched(resp, resp.read())
                saver = _Saver(step.to)
                for chunk in resp.iter_bytes():
                    saver.write(chunk)
                saver.done()
                return _fetched(resp)
        except _HTTP_ERRORS as exc:
            if saver is not None:
                saver.abort()
            return _fetch_error(exc)


@dataclass
class AsyncEngine:
    """Performs flow steps with an ``httpx.AsyncClient``; *sleep* may be sync or async."""

    http: httpx.AsyncClient
    tokens: AsyncTokenProvider
    limiter: RateLimiter | None
    sleep: Callable[[float], Any]

    async def run(self, flow: Flow) -> Any:
        """Drive *flow* to its result."""
        value: Any = None
        try:
            while True:
                try:
                    step = flow.send(value)
                except StopIteration as stop:
                    return stop.value
                value = await self._perform(step)
        finally:
            flow.close()

    async def _perform(self, step: Any) -> Any:
        if isinstance(step, Send):
            try:
                return _reply(await self.http.request(step.method, step.path, **_request_args(step)))
            except _HTTP_ERRORS as exc:
                return _transport_error(step, exc)
        if isinstance(step, Fetch):
            return await self._fetch(step)
        if isinstance(step, GetToken):
            return await self.tokens.get(stale=step.stale)
        if isinstance(step, Reserve):
            delay = self.limiter.reserve(step.op) if self.limiter is not None else 0.0
            if delay > 0:
                await self._sleep(delay)
            return delay
        if isinstance(step, Sleep):
            await self._sleep(step.seconds)
            return None
        raise TypeError(f"unknown step {step!r}")

    async def _fetch(self, step: Fetch) -> Reply | TransportError:
        saver = None
        try:
            async with self.http.stream("GET", step.url) as resp:
                if resp.status_code >= 300 or step.to is None:
                    return _fetched(resp, await resp.aread())
                saver = _Saver(step.to)
                async for chunk in resp.aiter_bytes():
                    saver.write(chunk)
                saver.done()
                return _fetched(resp)
        except _HTTP_ERRORS as exc:
            if saver is not None:
                saver.abort()
            return _fetch_error(exc)

    async def _sleep(self, seconds: float) -> None:
        result = self.sleep(seconds)
        if inspect.isawaitable(result):
            await result


class AsgiTransport(httpx.BaseTransport):
    """A *blocking* httpx transport that calls an ASGI app in-process (e.g. the emulator).

    httpx's own ``ASGITransport`` is async-only; this one runs it on a private event loop thread,
    so a sync :class:`~mdekit.Defender` can talk to ``create_app(state)`` without sockets. The
    client address is loopback, so the emulator's control plane answers too.
    """

    def __init__(self, app: Any) -> None:
        import anyio.from_thread

        self._inner = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        self._cm: AbstractContextManager[Any] = anyio.from_thread.start_blocking_portal()
        self._portal = self._cm.__enter__()
        self._lock = threading.Lock()
        self._closed = False

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send *request* through the ASGI app and return the complete response."""
        body = request.read()

        async def go() -> httpx.Response:
            req = httpx.Request(request.method, request.url, headers=request.headers, content=body)
            resp = await self._inner.handle_async_request(req)
            content = await resp.aread()
            # content is decoded now: drop the encoding headers that described the raw bytes
            headers = [
                (k, v)
                for k, v in resp.headers.multi_items()
                if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")
            ]
            return httpx.Response(resp.status_code, headers=headers, content=content)

        call: Callable[[], Awaitable[httpx.Response]] = go
        return self._portal.call(call)

    def close(self) -> None:
        """Nothing: httpx closes a client's transport with the client, but this one may be shared by
        several clients (and the token credential); :meth:`shutdown` stops it."""

    def shutdown(self) -> None:
        """Stop the event loop thread."""
        with self._lock:
            if not self._closed:
                self._closed = True
                self._cm.__exit__(None, None, None)
