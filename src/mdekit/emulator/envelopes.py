"""Which surface a path belongs to, and an error answer in that surface's own envelope.

Used where a request is refused before any route sees it (body too large, body unreadable): the
Defender API answers ``{"error": {"code", "message", "target"}}``, Graph adds ``innerError``, Entra
answers ``error``/``error_description``/``error_codes``..., the control plane ``{"detail"}``.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import orjson

from mdekit.emulator.clock import format_odata_time

__all__ = ["Problem", "error_answer", "http_error_handler", "not_found_answer", "surface"]

#: Entra has no documented code for an oversized or unreadable request body; AADSTS9002313
#: ("Invalid request. Request is malformed or invalid.") is what it answers to malformed requests.
_ENTRA_MALFORMED = 9002313
_MDE_CONTENT_TYPE = b"application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8"


class Problem(Exception):
    """A request refused with *status*, an error *code* (MDE/Graph spelling) and a *message*."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message


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


def _body(kind: str, problem: Problem, request_id: str, now: datetime) -> dict[str, Any]:
    if kind == "mde":
        return {"error": {"code": problem.code, "message": problem.message, "target": request_id}}
    if kind == "graph":
        inner = {
            "date": format_odata_time(now)[:19],
            "request-id": request_id,
            "client-request-id": request_id,
        }
        return {"error": {"code": problem.code, "message": problem.message, "innerError": inner}}
    if kind == "control":
        return {"detail": problem.message}
    from mdekit.emulator.entra.errors import error_body

    message = f"Invalid request. Request is malformed or invalid. {problem.message}"
    return error_body(_ENTRA_MALFORMED, "invalid_request", message, now)


_LOGIN_404 = b"<!DOCTYPE html><html><head><title>Error</title></head><body>404 - Not Found</body></html>"


def not_found_answer(kind: str, path: str) -> tuple[int, str, bytes]:
    """Status, content type and body each real service sends for a path it does not serve."""
    request_id = str(uuid.uuid4())
    if kind == "mde":
        body: Any = {"error": {"code": "NotFound", "message": f"Resource {_short(path)} was not found",
                               "target": request_id}}  # fmt: skip
    elif kind == "graph":
        segment = _short(path.strip("/").split("/")[0])
        body = {
            "error": {
                "code": "NotFound",
                "message": f"Resource not found for the segment '{segment}'.",
                "innerError": {"request-id": request_id, "client-request-id": request_id},
            }
        }
    elif kind == "control":
        body = {"detail": "Not Found"}
    else:  # the login service answers unknown paths with an HTML error page
        return 404, "text/html; charset=utf-8", _LOGIN_404
    return 404, "application/json; charset=utf-8", orjson.dumps(body)


def _short(text: str) -> str:
    return text if len(text) <= 200 else f"{text[:100]}... ({len(text):,} characters)"


def error_answer(path: str, problem: Problem, now: datetime) -> tuple[list[tuple[bytes, bytes]], bytes]:
    """Raw ASGI ``(headers, body)`` answering *problem* in the envelope of *path*'s surface."""
    kind = surface(path)
    request_id = str(uuid.uuid4())
    body = orjson.dumps(_body(kind, problem, request_id, now))
    content_type = _MDE_CONTENT_TYPE if kind == "mde" else b"application/json"
    headers = [(b"content-type", content_type), (b"content-length", str(len(body)).encode())]
    if kind in ("mde", "graph"):
        headers.append((b"request-id", request_id.encode()))
    if kind == "entra":
        headers += [(b"cache-control", b"no-store, no-cache"), (b"pragma", b"no-cache")]
    return headers, body


async def http_error_handler(request: Any, exc: Any) -> Any:
    """Starlette's own 404/405 (no route, wrong method) and any ``HTTPException`` a route raises,
    answered in the envelope of the path's surface; the control plane keeps ``{"detail"}``."""
    from starlette.responses import JSONResponse, Response

    path = request.url.path
    kind = surface(path)
    headers = dict(getattr(exc, "headers", None) or {})
    if kind == "control":
        return JSONResponse({"detail": exc.detail}, exc.status_code, headers=headers)
    if exc.status_code == 404:
        status, content_type, body = not_found_answer(kind, path)
        return Response(body, status, headers=headers, media_type=content_type)
    message = str(exc.detail)
    if exc.status_code == 405:
        message = f"The requested resource does not support http method '{request.method}'."
    code = "BadRequest" if exc.status_code in (400, 405) else "UnknownError"  # UNVERIFIED for Graph
    raw, body = error_answer(path, Problem(exc.status_code, code, message), request.app.state.emu.clock.now())
    response = Response(body, exc.status_code, headers=headers)
    response.raw_headers.extend(h for h in raw if h[0] != b"content-length")
    return response
