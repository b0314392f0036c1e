"""Which surface a path belongs to, and an error answer in that surface's own envelope.

Used where a request is refused before any route sees it (no route, wrong method, body too large,
body unreadable). Each surface has one builder of its error answer and this module only
dispatches to it: the Defender API (MDE and XDR, ``/api``) :func:`mdekit.emulator.defender.wire.
error_response`, Graph :func:`mdekit.emulator.graph.errors.error_response` (``innerError`` with
the virtual ``date``, ``request-id`` and the caller's ``client-request-id``), Entra
:func:`mdekit.emulator.entra.errors.error_body`; the control plane answers ``{"detail"}``.
"""

from __future__ import annotations

from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response

__all__ = [
    "Problem",
    "http_error_handler",
    "not_found_response",
    "problem_response",
    "send_problem",
    "surface",
    "validation_error_handler",
]

#: Entra has no documented code for an oversized or unreadable request body; AADSTS9002313
#: ("Invalid request. Request is malformed or invalid.") is what it answers to malformed requests.
_ENTRA_MALFORMED = 9002313
_LOGIN_404 = "<!DOCTYPE html><html><head><title>Error</title></head><body>404 - Not Found</body></html>"


class Problem(Exception):
    """A request refused with *status*, an error *code* (MDE/Graph spelling) and a *message*."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def surface(path: str) -> str:
    """``"control"``, ``"mde"`` (``/api``, both hunting APIs included), ``"graph"`` or ``"entra"``."""
    low = path.lower()
    if low.startswith("/_emulator"):
        return "control"
    if low == "/api" or low.startswith("/api/"):
        return "mde"
    if low.startswith("/v1.0/") or low.startswith("/beta/"):
        return "graph"
    return "entra"


def _short(text: str) -> str:
    return text if len(text) <= 200 else f"{text[:100]}... ({len(text):,} characters)"


def problem_response(request: Request, problem: Problem, kind: str | None = None) -> Response:
    """*problem* answered in the envelope of *request*'s surface (or *kind*), by its own builder."""
    kind = kind or surface(request.url.path)
    if kind == "mde":
        from mdekit.emulator.defender.wire import ApiFailure, error_response

        return error_response(ApiFailure(problem.status, problem.code, problem.message, problem.headers))
    if kind == "graph":
        from mdekit.emulator.graph.errors import GraphError
        from mdekit.emulator.graph.errors import error_response as graph_error

        return graph_error(
            request, GraphError(problem.status, problem.code, problem.message, problem.headers)
        )
    if kind == "control":
        return JSONResponse({"detail": problem.message}, problem.status, headers=problem.headers)
    from mdekit.emulator.entra.errors import error_body
    from mdekit.emulator.entra.token_http import NO_STORE

    message = f"Invalid request. Request is malformed or invalid. {problem.message}"
    body = error_body(_ENTRA_MALFORMED, "invalid_request", message, request.app.state.emu.clock.now())
    return JSONResponse(body, problem.status, headers={**NO_STORE, **problem.headers})


def not_found_response(request: Request, kind: str | None = None) -> Response:
    """What each real service (the path's surface, or *kind*) answers for a path it does not serve."""
    path = request.url.path
    kind = kind or surface(path)
    if kind == "mde":
        problem = Problem(404, "NotFound", f"Resource {_short(path)} was not found")
        return problem_response(request, problem, kind)
    if kind == "graph":
        segment = _short(path.strip("/").split("/")[0])
        problem = Problem(404, "NotFound", f"Resource not found for the segment '{segment}'.")
        return problem_response(request, problem, kind)
    if kind == "control":
        return JSONResponse({"detail": "Not Found"}, 404)
    return HTMLResponse(_LOGIN_404, 404)  # the login service answers unknown paths with an HTML page


async def send_problem(
    scope: Any, receive: Any, send: Any, problem: Problem | None, kind: str | None = None
) -> None:
    """Answer a raw ASGI request with *problem* (``None``: not found) in its surface's (or *kind*'s)
    envelope."""
    request = Request(scope, receive)
    if problem is None:
        response = not_found_response(request, kind)
    else:
        response = problem_response(request, problem, kind)
    await response(scope, receive, send)


async def http_error_handler(request: Any, exc: Any) -> Any:
    """Starlette's own 404/405 (no route, wrong method) and any ``HTTPException`` a route raises,
    answered in the envelope of the path's surface; the control plane keeps ``{"detail"}``."""
    headers = dict(getattr(exc, "headers", None) or {})
    if surface(request.url.path) == "control":
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=headers)
    if exc.status_code == 404:
        return not_found_response(request)
    message = str(exc.detail)
    if exc.status_code == 405:
        message = f"The requested resource does not support http method '{request.method}'."
    return problem_response(
        request, Problem(exc.status_code, _code(request, exc.status_code), message, headers)
    )


async def validation_error_handler(request: Any, exc: Any) -> Any:
    """FastAPI's request validation error outside the routes' own handling: a 400 in the surface's
    envelope (never FastAPI's 422 ``{"detail": [...]}``)."""
    errors = exc.errors() if hasattr(exc, "errors") else []
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
    message = f"Invalid input {where}: {first.get('msg', 'invalid value')}".replace("input :", "input:")
    if surface(request.url.path) == "control":
        return JSONResponse({"detail": message}, 400)
    return problem_response(request, Problem(400, _code(request, 422), message))


def _code(request: Request, status: int) -> str:
    """The code a plain HTTP error gets on *request*'s surface (UNVERIFIED beyond 404)."""
    if surface(request.url.path) == "graph":
        return {405: "MethodNotAllowed", 415: "UnsupportedMediaType"}.get(status, "BadRequest")
    from mdekit.emulator.defender.wire import http_failure

    return http_failure(status, "").code
