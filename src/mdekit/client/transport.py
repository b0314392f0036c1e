"""Drivers that run a :mod:`~mdekit.client.flow` over httpx (blocking or async), plus a sync ASGI transport.

This is the only module that touches httpx: its exceptions become :class:`mdekit.errors.TransportError`
here and nowhere else.
"""

from __future__ import annotations

import contextlib
import functools
import inspect
import os
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, TypeVar

import httpx

from mdekit.client.core import Reply
from mdekit.client.flow import Fetch, Flow, GetToken, Multipart, Reserve, Send, Sleep
from mdekit.client.ratelimit import RateLimiter
from mdekit.client.routing import Routes, TokenProviders
from mdekit.client.tokens import AsyncTokenProvider, TokenProvider
from mdekit.errors import MdeError, TransportError

__all__ = ["AsgiTransport", "AsyncEngine", "SyncEngine", "borrowed", "user_agent"]

T = TypeVar("T")


@functools.cache
def user_agent() -> str:
    """The ``User-Agent`` mdekit sends (the installed version, as ``mde --version`` shows it)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        number = version("mdekit")
    except PackageNotFoundError:  # run from a source tree that is not installed
        number = "0+unknown"
    return f"mdekit/{number} (+httpx)"


class _Borrowed(httpx.BaseTransport, httpx.AsyncBaseTransport):
    """A caller's transport (blocking, async or both), used but never closed by the client on it."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        return self.inner.handle_request(request)

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        return await self.inner.handle_async_request(request)

    def close(self) -> None:
        """Nothing: the transport stays open for its owner (who closes it)."""

    async def aclose(self) -> None:
        """Nothing: the transport stays open for its owner (who closes it)."""


def borrowed(transport: Any) -> Any:
    """*transport* wrapped so that closing the httpx client built on it leaves it open.

    Whoever creates an httpx client or transport closes it: a client's ``close()`` closes the
    connections the client opened itself, never a transport it was given. ``None`` stays ``None``.
    """
    return transport if transport is None or isinstance(transport, _Borrowed) else _Borrowed(transport)


def _reply(resp: httpx.Response, content: bytes = b"", unread: _Unread | None = None) -> Reply:
    return Reply(resp.status_code, {k.lower(): v for k, v in resp.headers.items()}, content, unread)


def _body(resp: httpx.Response) -> bytes:
    """The whole body of a streamed response, which is closed.

    Not ``resp.read()``: that keeps the body on the response, which its stream references back (a
    cycle), so a 10 MB page would stay alive until the garbage collector finds the cycle - a full
    collection, since a listing moves what a page leaves to the oldest generation
    (:mod:`~mdekit.client.gcpause`).
    """
    try:
        return b"".join(resp.iter_bytes())
    finally:
        resp.close()


async def _abody(resp: httpx.Response) -> bytes:
    """As :func:`_body`, for an async response."""
    try:
        return b"".join([chunk async for chunk in resp.aiter_bytes()])
    finally:
        await resp.aclose()


#: Failures that happen before the request leaves the client: the service never saw it.
_UNSENT: tuple[type[BaseException], ...] = (
    httpx.ConnectError,  # refused, DNS, TLS handshake
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
    httpx.UnsupportedProtocol,
    httpx.LocalProtocolError,
    httpx.InvalidURL,
)


def _transport_error(step: Send, exc: BaseException) -> TransportError:
    kind = type(exc).__name__
    detail = str(exc).splitlines()[0] if str(exc) else ""
    return TransportError(
        f"{step.method} {step.path}: no answer ({kind}{': ' + detail if detail else ''})",
        sent=not isinstance(exc, _UNSENT),
    )


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


class _Unread:
    """The body of a deferred 2xx answer (:attr:`Send.defer`), read by whoever needs it."""

    def __init__(self, resp: httpx.Response, step: Send) -> None:
        self._resp, self._step = resp, step

    def read(self) -> bytes:
        try:
            return _body(self._resp)
        except _HTTP_ERRORS as exc:
            raise _transport_error(self._step, exc) from None

    def close(self) -> None:
        self._resp.close()


_HTTP_ERRORS: tuple[type[BaseException], ...] = (httpx.HTTPError, httpx.InvalidURL, OSError)

#: How big a download chunk is (a file export streams through in pieces of this size).
CHUNK = 256 * 1024


def _file_name(url: str) -> str:
    """The URL without its query (a signed link's signature stays out of messages)."""
    return url.split("?", 1)[0]


def _download_error(resp: httpx.Response, url: str) -> MdeError:
    """A failed file download (e.g. Azure Storage's 403 ``AuthenticationFailed`` for an expired link)."""
    from mdekit.errors import ApiError

    code = resp.headers.get("x-ms-error-code")
    hint = " (the signed link has expired or is invalid: export again)" if resp.status_code == 403 else ""
    status = f"HTTP {resp.status_code}" + (f" {code}" if code else "")
    message = f"download of {_file_name(url)} failed: {status}{hint}"
    return ApiError(message, status=resp.status_code, code=code)


def _download_failed(url: str, exc: BaseException) -> TransportError:
    return TransportError(f"download of {_file_name(url)}: no answer ({type(exc).__name__})")


@dataclass
class _Driver:
    """What both drivers share: where a :class:`Send` goes, its arguments, token providers, limiter."""

    http: Any
    routes: Routes
    tokens: TokenProviders[Any]
    limiter: RateLimiter | None
    sleep: Callable[[float], Any]

    def _request(self, step: Send) -> tuple[str, str, dict[str, Any]]:
        # httpx.Headers masks Authorization in its repr (frame locals in tracebacks, pytest -l)
        args: dict[str, Any] = {
            "params": step.params,
            "headers": httpx.Headers({"Authorization": "Bearer " + step.token}),
        }
        if isinstance(step.body, Multipart):
            args["files"] = {step.body.part: (step.body.filename, step.body.content)}
            args["data"] = step.body.fields
        elif step.body is not None:
            args["json"] = step.body
        return step.method, self.routes[step.resource].url(step.path), args

    def _reserve(self, step: Reserve) -> float:
        return self.limiter.reserve(step.op) if self.limiter is not None else 0.0


def _advance(flow: Flow[Any], value: Any, error: MdeError | None) -> Any:
    """The flow's next step: *value* sent in, or *error* thrown in at its ``yield``."""
    return flow.throw(error) if error is not None else flow.send(value)


class SyncEngine(_Driver):
    """Performs flow steps with a blocking ``httpx.Client``."""

    http: httpx.Client
    tokens: TokenProviders[TokenProvider]

    def run(self, flow: Flow[T]) -> T:
        """Drive *flow* to its result (its exceptions propagate)."""
        value: Any = None
        error: MdeError | None = None
        try:
            while True:
                try:
                    step = _advance(flow, value, error)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                value, error = None, None
                try:
                    value = self._perform(step)
                except MdeError as exc:  # e.g. no token for a resource: the flow may handle it
                    error = exc
        finally:
            flow.close()

    def _perform(self, step: Any) -> Any:
        if isinstance(step, Send):
            method, url, args = self._request(step)
            try:
                resp = self.http.send(self.http.build_request(method, url, **args), stream=True)
                if step.defer and resp.status_code < 300:  # the body is read by whoever needs it
                    return _reply(resp, unread=_Unread(resp, step))
                return _reply(resp, _body(resp))
            except _HTTP_ERRORS as exc:
                return _transport_error(step, exc)
        if isinstance(step, Fetch):
            return self._fetch(step)
        if isinstance(step, GetToken):
            return self.tokens[step.resource].get(stale=step.stale)
        if isinstance(step, Reserve):
            delay = self._reserve(step)
            if delay > 0:
                self.sleep(delay)
            return delay
        if isinstance(step, Sleep):
            self.sleep(step.seconds)
            return None
        raise TypeError(f"unknown step {step!r}")

    def stream(self, url: str) -> Iterator[bytes]:
        """The body of *url* in chunks (a signed download link: no token is sent)."""
        try:
            with self.http.stream("GET", url, headers={"Accept": "*/*"}) as resp:
                if resp.status_code >= 300:
                    resp.read()
                    raise _download_error(resp, url)
                yield from resp.iter_bytes(CHUNK)
        except _HTTP_ERRORS as exc:
            raise _download_failed(url, exc) from None

    def _fetch(self, step: Fetch) -> Reply | TransportError:
        saver = None
        try:
            with self.http.stream("GET", step.url) as resp:
                if resp.status_code >= 300 or step.to is None:
                    return _reply(resp, resp.read())
                saver = _Saver(step.to)
                for chunk in resp.iter_bytes():
                    saver.write(chunk)
                saver.done()
                return _reply(resp)
        except _HTTP_ERRORS as exc:
            if saver is not None:
                saver.abort()
            return _fetch_error(exc)


class AsyncEngine(_Driver):
    """Performs flow steps with an ``httpx.AsyncClient``; *sleep* may be sync or async."""

    http: httpx.AsyncClient
    tokens: TokenProviders[AsyncTokenProvider]

    async def run(self, flow: Flow[T]) -> T:
        """Drive *flow* to its result."""
        value: Any = None
        error: MdeError | None = None
        try:
            while True:
                try:
                    step = _advance(flow, value, error)
                except StopIteration as stop:
                    result: T = stop.value
                    return result
                value, error = None, None
                try:
                    value = await self._perform(step)
                except MdeError as exc:
                    error = exc
        finally:
            flow.close()

    async def _perform(self, step: Any) -> Any:
        if isinstance(step, Send):
            method, url, args = self._request(step)
            try:
                resp = await self.http.send(self.http.build_request(method, url, **args), stream=True)
                return _reply(resp, await _abody(resp))
            except _HTTP_ERRORS as exc:
                return _transport_error(step, exc)
        if isinstance(step, Fetch):
            return await self._fetch(step)
        if isinstance(step, GetToken):
            return await self.tokens[step.resource].get(stale=step.stale)
        if isinstance(step, Reserve):
            delay = self._reserve(step)
            if delay > 0:
                await self.asleep(delay)
            return delay
        if isinstance(step, Sleep):
            await self.asleep(step.seconds)
            return None
        raise TypeError(f"unknown step {step!r}")

    async def _fetch(self, step: Fetch) -> Reply | TransportError:
        saver = None
        try:
            async with self.http.stream("GET", step.url) as resp:
                if resp.status_code >= 300 or step.to is None:
                    return _reply(resp, await resp.aread())
                saver = _Saver(step.to)
                async for chunk in resp.aiter_bytes():
                    saver.write(chunk)
                saver.done()
                return _reply(resp)
        except _HTTP_ERRORS as exc:
            if saver is not None:
                saver.abort()
            return _fetch_error(exc)

    async def asleep(self, seconds: float) -> None:
        """Sleep with the injected sleep (sync or async)."""
        result = self.sleep(seconds)
        if inspect.isawaitable(result):
            await result

    async def stream(self, url: str) -> AsyncIterator[bytes]:
        """As :meth:`SyncEngine.stream`."""
        try:
            async with self.http.stream("GET", url, headers={"Accept": "*/*"}) as resp:
                if resp.status_code >= 300:
                    await resp.aread()
                    raise _download_error(resp, url)
                async for chunk in resp.aiter_bytes(CHUNK):
                    yield chunk
        except _HTTP_ERRORS as exc:
            raise _download_failed(url, exc) from None


class AsgiTransport(httpx.BaseTransport):
    """A *blocking* httpx transport that calls an ASGI app in-process (e.g. the emulator).

    httpx's own ``ASGITransport`` is async-only; this one runs it on a private event-loop thread,
    so a sync :class:`~mdekit.Defender` can talk to ``create_app(state)`` without sockets. The
    client address is loopback, so the emulator's control plane answers too.

    The thread starts with the first request and stops at :meth:`close` (once requests in flight
    have finished). One transport may serve several clients (a client and its token credential
    share it): a request after ``close()`` starts a new thread, which the next ``close()`` stops.
    """

    def __init__(self, app: Any) -> None:
        self._inner = httpx.ASGITransport(app=app, client=("127.0.0.1", 50000))
        self._lock = threading.Lock()
        self._cm: AbstractContextManager[Any] | None = None
        self._portal: Any = None
        self._active = 0
        self._closing = False

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
        portal = self._enter()
        try:
            response: httpx.Response = portal.call(call)
            return response
        finally:
            self._leave()

    def _enter(self) -> Any:
        with self._lock:
            if self._portal is None:
                import anyio.from_thread

                self._cm = anyio.from_thread.start_blocking_portal()
                self._portal = self._cm.__enter__()
            self._active += 1
            return self._portal

    def _leave(self) -> None:
        with self._lock:
            self._active -= 1
            cm = self._detach() if self._closing and not self._active else None
        if cm is not None:
            cm.__exit__(None, None, None)

    def _detach(self) -> AbstractContextManager[Any] | None:
        cm, self._cm, self._portal, self._closing = self._cm, None, None, False
        return cm

    def close(self) -> None:
        """Stop the event-loop thread (after the requests in flight, if any)."""
        with self._lock:
            if self._active:
                self._closing = True
                return
            cm = self._detach()
        if cm is not None:
            cm.__exit__(None, None, None)

    def shutdown(self) -> None:
        """The same as :meth:`close`."""
        self.close()
