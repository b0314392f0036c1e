"""The MDE API's wire format: OData JSON responses, the error envelope and the route class.

Every Defender route uses :class:`MdeRoute`, which gives each request an id (the error
envelope's ``target``, also sent as the ``request-id`` header) and turns :class:`ApiFailure`
and FastAPI's own validation errors into ``{"error": {"code", "message", "target"}}``.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.routing import APIRoute

from mdekit.emulator.defender.odata import ODataError

__all__ = [
    "ODATA_JSON",
    "ApiFailure",
    "MdeRoute",
    "ODataResponse",
    "context_url",
    "entity",
    "error_body",
    "not_found",
    "odata_collection",
]

#: The content type the real service sends (service-facts §3.2).
ODATA_JSON = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8"
REQUEST_ID_HEADER = "request-id"


class ApiFailure(Exception):
    """An MDE API error answer: HTTP *status*, error *code* and *message*."""

    def __init__(self, status: int, code: str, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}


def not_found(what: str, ident: object) -> ApiFailure:
    """404 ``ResourceNotFound`` ("Machine 123 was not found"); a hostile 200 KB id is not echoed whole."""
    text = str(ident)
    if len(text) > 200:
        text = f"{text[:100]}... ({len(text):,} characters)"
    return ApiFailure(404, "ResourceNotFound", f"{what} {text} was not found")


def bad_request(code: str, message: str) -> ApiFailure:
    """A 400 with *code* (``InvalidInput``, ``InvalidRequestBody``, ``ODataError``...)."""
    return ApiFailure(400, code, message)


class ODataResponse(Response):
    """JSON in the service's key order with its OData content type and ``OData-Version``."""

    media_type = ODATA_JSON

    def __init__(self, content: Any, status_code: int = 200, headers: dict[str, str] | None = None) -> None:
        super().__init__(content, status_code, {"OData-Version": "4.0", **(headers or {})})

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error_body(code: str, message: str, target: str) -> dict[str, Any]:
    """The MDE error envelope."""
    return {"error": {"code": code, "message": message, "target": target}}


def context_url(request: Request, fragment: str) -> str:
    """``https://<Host header>/api/$metadata#<fragment>``."""
    host = request.headers.get("host") or "api.securitycenter.microsoft.com"
    return f"https://{host}/api/$metadata#{fragment}"


def odata_collection(request: Request, set_name: str, items: list[Any], next_link: str | None = None) -> Any:
    """``{"@odata.context", "value", ["@odata.nextLink"]}``."""
    body: dict[str, Any] = {"@odata.context": context_url(request, set_name), "value": items}
    if next_link:
        body["@odata.nextLink"] = next_link
    return ODataResponse(body)


def entity(request: Request, set_name: str, item: dict[str, Any], status_code: int = 200) -> ODataResponse:
    """A single entity: ``@odata.context`` ``#<Set>/$entity`` first, then its properties."""
    return ODataResponse({"@odata.context": context_url(request, f"{set_name}/$entity"), **item}, status_code)


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "Request is invalid"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
    return f"Invalid input {where}: {first.get('msg', 'invalid value')}"


def _failure_response(request_id: str, failure: ApiFailure) -> Response:
    return ODataResponse(
        error_body(failure.code, failure.message, request_id), failure.status, headers=failure.headers
    )


class MdeRoute(APIRoute):
    """APIRoute answering errors in the MDE envelope and tagging every answer with a request id."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def mde_handler(request: Request) -> Response:
            request_id = str(uuid.uuid4())
            request.state.request_id = request_id
            try:
                response = await handler(request)
            except ApiFailure as failure:
                response = _failure_response(request_id, failure)
            except ODataError as exc:  # a filter SQLite itself refused as too complex (listing)
                response = _failure_response(request_id, ApiFailure(400, "ODataError", str(exc)))
            except RequestValidationError as exc:
                response = _failure_response(
                    request_id, ApiFailure(400, "InvalidInput", _validation_message(exc))
                )
            except HTTPException as exc:
                code = {404: "NotFound", 405: "BadRequest"}.get(exc.status_code, "BadRequest")
                response = _failure_response(request_id, ApiFailure(exc.status_code, code, str(exc.detail)))
            response.headers[REQUEST_ID_HEADER] = request_id
            return response

        return mde_handler

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        """A path this route serves, asked with another method: 405 in the MDE envelope.

        (Starlette raises it before the route handler runs, so ``mde_handler`` never sees it.)
        """
        method = scope["method"]
        if self.methods and method not in self.methods:
            request_id = str(uuid.uuid4())
            message = f"The requested resource does not support http method '{method}'."
            allow = ", ".join(sorted(self.methods))
            failure = ApiFailure(405, "BadRequest", message, headers={"Allow": allow})
            response = _failure_response(request_id, failure)
            response.headers[REQUEST_ID_HEADER] = request_id
            await response(scope, receive, send)
            return
        await super().handle(scope, receive, send)
