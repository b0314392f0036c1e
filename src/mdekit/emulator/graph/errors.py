"""Microsoft Graph's wire format: the error envelope, JSON answers and the route class.

Every Graph error is ``{"error": {"code", "message", "innerError": {"date", "request-id",
"client-request-id"}}}`` (service-facts-2 §3.4): ``date`` is the emulator's virtual now (seconds,
no zone, as Graph writes it), ``request-id`` is this answer's id (also the ``request-id`` header),
``client-request-id`` echoes the caller's header of that name, or repeats the request id.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.routing import APIRoute

from mdekit.emulator.clock import dotnet_times

__all__ = [
    "GRAPH_ERRORS",
    "GRAPH_JSON",
    "GraphError",
    "GraphResponse",
    "GraphRoute",
    "bad_request",
    "error_body",
    "error_response",
    "not_found",
    "stamp",
]

#: The content type Graph answers JSON with.
GRAPH_JSON = (
    "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8"
)

#: Error answers every Graph operation may give (for the OpenAPI description).
GRAPH_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "BadRequest: OData query options or body"},
    401: {"description": "InvalidAuthenticationToken: missing, malformed, expired or foreign token"},
    403: {"description": "Forbidden: the token lacks the operation's application role"},
    404: {"description": "NotFound"},
    429: {"description": "TooManyRequests (Retry-After header, seconds)"},
}


class GraphError(Exception):
    """A Graph error answer: HTTP *status*, error *code* and *message* (and extra headers)."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}


def bad_request(message: str) -> GraphError:
    """400 ``BadRequest`` (bad OData options, body or values)."""
    return GraphError(400, "BadRequest", message)


def not_found(message: str) -> GraphError:
    """404 ``NotFound`` (the code the security endpoints use for an unknown id is UNVERIFIED)."""
    return GraphError(404, "NotFound", message)


class GraphResponse(Response):
    """Graph JSON: compact, key order kept, Graph's content type and ``OData-Version: 4.0``."""

    media_type = GRAPH_JSON

    def __init__(self, content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> None:
        super().__init__(content, status_code, {"OData-Version": "4.0", **(headers or {})})

    def render(self, content: Any) -> bytes:
        # Times as the MDE answers write them (one formatter, so the same alert's times match across
        # the APIs); that Graph trims trailing zeros as the MDE API does is UNVERIFIED.
        return dotnet_times(json.dumps(content, ensure_ascii=False, separators=(",", ":"))).encode("utf-8")


def error_body(
    code: str, message: str, *, date: str, request_id: str, client_request_id: str
) -> dict[str, Any]:
    """The Graph error envelope."""
    inner = {"date": date, "request-id": request_id, "client-request-id": client_request_id}
    return {"error": {"code": code, "message": message, "innerError": inner}}


def _ids(request: Request) -> tuple[str, str]:
    request_id = getattr(request.state, "request_id", None) or str(uuid.uuid4())
    request.state.request_id = request_id
    client_id = request.headers.get("client-request-id") or request_id
    return request_id, client_id[:128]


def _now(request: Request) -> str:
    """The virtual now as Graph's ``innerError.date`` writes it."""
    return str(request.app.state.emu.clock.now().strftime("%Y-%m-%dT%H:%M:%S"))


def stamp(request: Request, response: Response) -> Response:
    """Add ``request-id`` and ``client-request-id`` headers to *response*."""
    request_id, client_id = _ids(request)
    response.headers["request-id"] = request_id
    response.headers["client-request-id"] = client_id
    return response


def error_response(request: Request, error: GraphError) -> Response:
    """*error* as Graph answers it (envelope, status, headers)."""
    request_id, client_id = _ids(request)
    body = error_body(
        error.code, error.message, date=_now(request), request_id=request_id, client_request_id=client_id
    )
    return stamp(request, GraphResponse(body, error.status, headers=error.headers))


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    first = errors[0] if errors else {}
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
    return f"Invalid value for '{where}': {first.get('msg', 'invalid value')}"


class GraphRoute(APIRoute):
    """APIRoute answering every error in Graph's envelope, tagging answers with request ids.

    :class:`GraphError`, FastAPI's validation errors (400 ``BadRequest``) and HTTP exceptions all
    become envelopes; a path asked with a method it does not serve is 405 in the envelope too.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def graph_handler(request: Request) -> Response:
            try:
                return stamp(request, await handler(request))
            except GraphError as error:
                return error_response(request, error)
            except RequestValidationError as exc:
                return error_response(request, bad_request(_validation_message(exc)))
            except HTTPException as exc:
                code = {404: "NotFound", 405: "MethodNotAllowed"}.get(exc.status_code, "BadRequest")
                return error_response(request, GraphError(exc.status_code, code, str(exc.detail)))

        return graph_handler

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        """405 in Graph's envelope for a path served here but not with this method (UNVERIFIED code)."""
        method = scope["method"]
        if self.methods and method not in self.methods:
            request = Request(scope, receive)
            error = GraphError(
                405,
                "MethodNotAllowed",
                f"The HTTP method '{method}' is not supported by this resource.",
                headers={"Allow": ", ".join(sorted(self.methods))},
            )
            response = error_response(request, error)
            await response(scope, receive, send)
            return
        await super().handle(scope, receive, send)
