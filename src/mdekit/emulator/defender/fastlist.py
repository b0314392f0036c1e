"""``GET`` of the big MDE lists straight from ASGI (issue 19).

FastAPI spent more CPU on finding the route (~200 routes in nested routers, matched twice per
level), solving its dependencies and validating the declared query parameters than the list's
own work on a small page. :class:`FastListMiddleware` answers ``GET /api/alerts``,
``/api/machines``, ``/api/machineactions`` and ``/api/indicators`` by calling the same route
functions with the same checks (:func:`~mdekit.emulator.defender.auth.checker`: token, roles,
throttling) and the same error answers (:func:`~mdekit.emulator.defender.wire.failure_answer`).
Like the token endpoints' middleware (issue 8) it sits inside the journal, fault, body-limit and
path-spelling layers, so those still apply; the FastAPI routes serve these paths when the
middleware is not installed and document them in the OpenAPI file.

A small page (:func:`_bounded`: ``$top`` up to 1,000, nothing whose cost grows with the tenant's
rows) is answered on the event loop when no worker thread is busy and the database is free,
holding its lock once for every read of the request; anything else goes to a worker thread as
before. Served, the hop to a worker and the two threads trading the GIL (SQLite lets it go at
every row) cost more CPU than a 100-item page itself (issue 19: with the remembered answer forms
of :mod:`~mdekit.emulator.defender.answers`, 0.33-0.48x the CPU per request of before for the
machines, indicators and actions lists; benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qsl

from anyio.to_thread import current_default_thread_limiter
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mdekit.emulator.defender.auth import Caller, bearer_token, checker
from mdekit.emulator.defender.wire import REQUEST_ID_HEADER, failure_answer, new_request_id

__all__ = ["FastListMiddleware"]

Endpoint = Callable[..., Response]


#: Options a list page answered on the event loop may carry (anything else: a worker thread).
_INLINE_OPTIONS = frozenset({"$top", "$skip", "$format"})
#: The largest ``$top`` and ``$skip`` answered on the event loop: ~2 ms of work at most.
_INLINE_MAX = 1000


def _bounded(query_string: bytes) -> bool:
    """Whether a list request's work is small and bounded whatever the data: ``$top`` and ``$skip``
    up to :data:`_INLINE_MAX`, no filter, order, count, expansion or projection (whose cost grows
    with the tenant's rows or the page). Those are answered on the event loop; the rest in a
    worker thread, as a big page or a filter over 1,000,000 alerts must not stall other requests.

    (An app that sees only its own indicators skips the others' rows on the way: that walk holds
    the database lock as long in a worker thread, which every other API request waits for too.)"""
    top = False
    for name, value in parse_qsl(query_string.decode("latin-1"), keep_blank_values=True):
        name = name.lower()
        if name not in _INLINE_OPTIONS:
            return False
        if name != "$format":
            # the length first: int() refuses over 4,300 digits (a ValueError, i.e. a 500)
            if not (value.isascii() and value.isdigit() and len(value) <= 9 and int(value) <= _INLINE_MAX):
                return False
            top = top or name == "$top"
    return top


def _workers_idle() -> bool:
    """Whether no request is running in a worker thread. While one is, a small page goes to a
    worker too: answered on the loop it would keep the GIL from the others (measured: an action
    POST's median latency doubled under a stream of list pages), so the threads share it as before."""
    return bool(current_default_thread_limiter().borrowed_tokens == 0)


def _entries() -> dict[str, tuple[Endpoint, Callable[[Request, str | None], Caller]]]:
    from mdekit.emulator.defender.routes import actions, alerts, indicators, machines

    return {
        "/api/alerts": (alerts.list_alerts, checker("alerts.list")),
        "/api/machines": (machines.list_machines, checker("machines.list")),
        "/api/machineactions": (actions.list_actions, checker("actions.list")),
        "/api/indicators": (indicators.list_indicators, checker("indicators.list")),
    }


def _serve(request: Request, endpoint: Endpoint, check: Callable[[Request, str | None], Caller]) -> Response:
    request_id = new_request_id()
    request.state.request_id = request_id
    try:
        response = endpoint(request=request, caller=check(request, bearer_token(request)))
    except Exception as exc:
        return failure_answer(exc, request_id)
    response.headers[REQUEST_ID_HEADER] = request_id
    return response


class FastListMiddleware:
    """ASGI middleware answering the list ``GET``\\ s above directly (see the module docstring)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self._entries: dict[str, tuple[Endpoint, Callable[[Request, str | None], Caller]]] | None = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or not scope["path"].startswith("/api/"):
            await self.app(scope, receive, send)
            return
        if self._entries is None:
            self._entries = _entries()
        entry = self._entries.get(scope["path"])
        if entry is None:
            await self.app(scope, receive, send)
            return
        request = Request(scope, receive)
        lock = scope["app"].state.emu.db.lock
        if _bounded(scope["query_string"]) and _workers_idle() and lock.acquire(blocking=False):
            try:  # a small page, the database free: answered here, with one lock for all its reads
                response = _serve(request, *entry)
            finally:
                lock.release()
        else:
            response = await run_in_threadpool(_serve, request, *entry)
        await response(scope, receive, send)
