"""``create_app(state)``: the emulator as one ASGI application (no module-level state).

Layers, outermost first: the request journal, fault plans, the body size limit, then the routes
(control plane, token service, Defender API, hunting, XDR incidents, Graph security, Graph app
management).
"""

from __future__ import annotations

import functools
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from mdekit.emulator.entra.token_http import TokenEndpointMiddleware, is_token_request
from mdekit.emulator.envelopes import http_error_handler, validation_error_handler
from mdekit.emulator.faults import JOURNAL_UNANSWERED, FaultMiddleware
from mdekit.emulator.journal import JournalEntry
from mdekit.emulator.state import EmulatorState

__all__ = ["EmulatorApp", "create_app"]


class JournalMiddleware:
    """Records every answered request in the state's journal (path only, never query or body).

    Routes name the tenant and app they served by setting ``request.state.tenant_id`` /
    ``request.state.app_id``.
    """

    def __init__(self, app: Any, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"].startswith("/_emulator"):
            await self.app(scope, receive, send)
            return
        scope.setdefault("state", {})
        recorded = False

        async def send_wrapper(message: Any) -> None:
            nonlocal recorded
            if message["type"] == "http.response.start" and not recorded:
                # Record before the first byte leaves: a client that reads the journal right
                # after its response must see its own request there.
                recorded = True
                self._record(scope, message["status"])
            await send(message)

        def unanswered() -> None:
            nonlocal recorded
            if not recorded:
                recorded = True
                self._record(scope, 0)

        # A fault plan that drops the connection records the request first: the client sees the
        # close at once and may read the journal before this request's ``finally`` runs.
        scope[JOURNAL_UNANSWERED] = unanswered
        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            unanswered()  # no answer at all (dropped connection or crash)

    def _record(self, scope: Any, status: int) -> None:
        host = next((v for k, v in scope.get("headers") or () if k == b"host"), b"")
        st = scope.get("state") or {}
        self.state.journal.record(
            JournalEntry(
                self.state.clock.time(),
                scope["method"],
                host.decode("latin-1"),
                scope["path"],
                status,
                st.get("tenant_id"),
                st.get("app_id"),
            )
        )


class EmulatorApp(FastAPI):
    """The FastAPI app, with a shorter way in for the token endpoints (issue 19).

    Token POSTs (``/{tenant}/oauth2[/v2.0]/token``) go through the journal, fault plans and body
    limit (the same middleware objects' classes as every other request) straight to
    :class:`~mdekit.emulator.entra.token_http.TokenEndpointMiddleware`, skipping FastAPI's own
    outer layers (error, telemetry, body-size middleware) and the Defender-only path and
    retirement checks, which never apply to them: about a fifth of the server's own work per
    token. Everything else takes the whole stack.
    """

    token_stack: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self.token_stack is not None and is_token_request(scope):
            scope["app"] = self  # what Starlette sets; the middlewares find the state through it
            await self.token_stack(scope, receive, send)
            return
        await super().__call__(scope, receive, send)


def create_app(state: EmulatorState) -> Any:
    """Build the emulator's ASGI app around *state*."""
    from mdekit.emulator import control
    from mdekit.emulator.appmgmt import router as appmgmt_router
    from mdekit.emulator.bodies import BodyLimitMiddleware
    from mdekit.emulator.defender.fastlist import FastListMiddleware
    from mdekit.emulator.defender.paths import CanonicalPathMiddleware
    from mdekit.emulator.defender.routes import router as defender_router
    from mdekit.emulator.entra.device_routes import router as device_router
    from mdekit.emulator.entra.routes import router as entra_router
    from mdekit.emulator.hunting.routes import router as hunting_router
    from mdekit.emulator.incidents.graph_routes import router as graph_security_router
    from mdekit.emulator.incidents.xdr_routes import router as incidents_router
    from mdekit.emulator.retired import RetiredApiMiddleware

    app = EmulatorApp(
        title="mdekit emulator: Microsoft Defender for Endpoint API",
        version="1.0",
        docs_url=None,
        redoc_url=None,
        openapi_url="/_emulator/openapi.json",
    )
    app.state.emu = state
    # No route, wrong method: the surface's own envelope, never FastAPI's {"detail": ...}
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.include_router(control.router)
    app.include_router(entra_router)
    app.include_router(device_router)
    app.include_router(defender_router)
    app.include_router(hunting_router)
    app.include_router(incidents_router)
    app.include_router(graph_security_router)
    app.include_router(appmgmt_router)
    # add_middleware wraps outermost-last: faults run inside the journal so faulted answers are logged.
    app.add_middleware(FastListMiddleware)  # innermost: the big list GETs skip route matching (issue 19)
    app.add_middleware(RetiredApiMiddleware)  # APIs switched to "retired" (MC1220762 hunting)
    app.add_middleware(CanonicalPathMiddleware)  # /API/Alerts -> /api/alerts (paths are case-insensitive)
    app.add_middleware(BodyLimitMiddleware)  # bodies read once, bounded per surface (413 beyond)
    app.add_middleware(FaultMiddleware)
    app.add_middleware(JournalMiddleware, state=state)
    # Token POSTs: the same journal, faults and body limit, then the token middleware (which answers
    # them without FastAPI's route matching, issue 8); it falls back to the whole stack.
    whole_stack = functools.partial(FastAPI.__call__, app)
    app.token_stack = JournalMiddleware(
        FaultMiddleware(BodyLimitMiddleware(TokenEndpointMiddleware(whole_stack))), state=state
    )
    return app
