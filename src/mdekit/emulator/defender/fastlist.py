"""``GET`` of the big MDE lists straight from ASGI (issue 19).

FastAPI spent more CPU on finding the route (~200 routes in nested routers, matched twice per
level), solving its dependencies and validating the declared query parameters than the list's
own work on a small page. :class:`FastListMiddleware` answers ``GET /api/alerts``,
``/api/machines``, ``/api/machineactions`` and ``/api/indicators`` by calling the same route
functions with the same checks (:func:`~mdekit.emulator.defender.auth.checker`: token, roles,
throttling) and the same error answers (:func:`~mdekit.emulator.defender.wire.failure_answer`),
in the same worker threads. Like the token endpoints' middleware (issue 8) it sits inside the
journal, fault, body-limit and path-spelling layers, so those still apply; the FastAPI routes
serve these paths when the middleware is not installed and document them in the OpenAPI file.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response

from mdekit.emulator.defender.auth import Caller, bearer_token, checker
from mdekit.emulator.defender.wire import REQUEST_ID_HEADER, failure_answer, new_request_id

__all__ = ["FastListMiddleware"]

Endpoint = Callable[..., Response]


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
        import os
        if os.environ.get("MDEKIT_INLINE"):
            response = _serve(request, *entry)
        else:
            response = await run_in_threadpool(_serve, request, *entry)
        await response(scope, receive, send)
