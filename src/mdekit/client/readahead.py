"""One page request in flight while the caller works: a helper thread (:class:`Ahead`) for the
blocking pager, a task (:class:`AsyncAhead`) for the async one.

What to request and when is decided once, by :func:`mdekit.client.base.read_ahead` (both pagers run
it); these two only start a request flow, hand its reply over, and drop it. The server prepares
and sends page N+1 while the caller parses and consumes page N (two processes, two cores), so a
listing takes about the longer of the two rather than their sum. At most one request is in flight;
on the helper thread its body stays on the connection until the pager reads it, and a page is
parsed only once the previous one is consumed: memory stays at one page of records.

A listing the caller abandons (``break``, an exception, closing the generator) stops its request:
the task is cancelled; the helper thread (a daemon) finishes the step under way, if any, drops
the answer, and takes no further step of the flow (no retry, no new back-off) before it ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Awaitable, Callable, Generator
from dataclasses import replace
from typing import Any, TypeVar

from mdekit.client.core import Reply
from mdekit.client.flow import Flow, Send
from mdekit.errors import TransportError

__all__ = ["Ahead", "AsyncAhead", "Request", "Stopped"]

T = TypeVar("T")


class Stopped(Exception):
    """The caller stopped the listing: the helper's flow ends before its next step."""


#: Builds the flow of one page request (called again to fetch the page the ordinary way).
Request = Callable[[], Flow[Reply]]


def _until(stop: threading.Event, flow: Flow[T]) -> Generator[Any, Any, T]:
    """*flow* with its GETs deferred (:attr:`Send.defer`), ended with :class:`Stopped` before any
    step once *stop* is set."""
    try:
        step = next(flow)
        while True:
            if stop.is_set():
                raise Stopped
            if isinstance(step, Send) and step.method == "GET":
                step = replace(step, defer=True)
            try:
                value = yield step
            except Exception as exc:  # a step's failure, thrown in by the driver: the flow may handle it
                step = flow.throw(exc)
            else:
                step = flow.send(value)
    except StopIteration as done:
        result: T = done.value
        return result
    finally:
        flow.close()


class Ahead:
    """The blocking pager's request in flight, on a helper thread; *run* drives a flow (``client.run``).

    The helper only waits for the answer's headers (the service has prepared the page by then);
    :meth:`wait` reads the body in the caller's thread. The helper thus holds the interpreter lock
    for a few steps only, never while the caller parses (a thread reading 10 MB in 16 kB TLS
    records while the caller parses would get the lock back once per switch interval).
    """

    def __init__(self, run: Callable[[Flow[Reply]], Reply]) -> None:
        self._run = run
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._request: Request | None = None
        self._outcome: tuple[Reply | None, BaseException | None] = (None, None)

    def start(self, request: Request) -> None:
        """Start the flow *request* builds on a helper thread (one at a time)."""
        self._request = request
        thread = threading.Thread(target=self._work, args=(request(),), name="mdekit-page-ahead", daemon=True)
        self._thread = thread
        thread.start()

    def _work(self, flow: Flow[Reply]) -> None:
        reply: Reply | None = None
        error: BaseException | None = None
        try:
            reply = self._run(_until(self._stop, flow))
        except BaseException as exc:  # handed to the caller by wait()
            error = exc
        with self._lock:
            if not self._stop.is_set():
                self._outcome = (reply, error)
                return
        if reply is not None:  # the listing was abandoned meanwhile
            reply.discard()

    def _joined(self) -> Reply:
        if self._thread is None:
            raise RuntimeError("no page request in flight")
        self._thread.join()
        self._thread = None
        (reply, error), self._outcome = self._outcome, (None, None)
        if error is not None:
            raise error
        assert reply is not None
        return reply

    def wait(self) -> Reply:
        """The started request's reply, body read (its exception raised here, in the caller's
        thread). A body cut short is fetched again the ordinary way, retries and all."""
        reply = self._joined()
        try:
            return reply.complete()
        except TransportError:
            assert self._request is not None
            return self._run(self._request())

    def drop(self) -> None:
        """Wait for the started request and drop its answer (a request sent on a wrong guess)."""
        with contextlib.suppress(Exception):  # nobody asked for that page: nor for its failure
            self._joined().discard()

    def close(self) -> None:
        """Stop: a request under way completes on its own (its answer dropped), nothing after it
        is sent."""
        with self._lock:
            self._stop.set()
            (reply, _), self._outcome = self._outcome, (None, None)
        self._thread = None
        if reply is not None:
            reply.discard()


class AsyncAhead:
    """The async pager's request in flight, as a task; *run* drives a flow (``client.run``)."""

    def __init__(self, run: Callable[[Flow[Reply]], Awaitable[Reply]]) -> None:
        self._run = run
        self._task: asyncio.Task[Reply] | None = None

    async def start(self, request: Request) -> None:
        """Start the flow *request* builds as a task, and let it send its request."""
        flow = request()

        async def go() -> Reply:
            return await self._run(flow)

        self._task = asyncio.ensure_future(go())
        await asyncio.sleep(0)

    async def wait(self) -> Reply:
        """The started request's reply (its exception raised here)."""
        if self._task is None:
            raise RuntimeError("no page request in flight")
        task, self._task = self._task, None
        return await task

    async def drop(self) -> None:
        """Cancel the started request (sent on a wrong guess)."""
        self.close()

    def close(self) -> None:
        """Cancel the request in flight, if any."""
        task, self._task = self._task, None
        if task is None:
            return
        if not task.done():
            task.cancel()
        elif not task.cancelled():
            task.exception()  # retrieved: a failure nobody waits for is not reported as lost
