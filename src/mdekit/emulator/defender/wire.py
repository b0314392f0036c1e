"""The MDE API's wire format: OData JSON responses, the error envelope and the route class.

Every Defender route uses :class:`MdeRoute`, which gives each request an id (the error
envelope's ``target``, also sent as the ``request-id`` header) and turns :class:`ApiFailure`
and FastAPI's own validation errors into ``{"error": {"code", "message", "target"}}``.
:func:`error_response` is the one builder of that envelope (the surface dispatch in
:mod:`mdekit.emulator.envelopes` uses it too).

As real answers show (service-facts §3.2, captures [FS:14600360650], [FS:14150995490]): successes
carry the OData content type and ``OData-Version: 4.0``; errors are plain
``application/json; charset=utf-8`` without ``OData-Version``, and their ``target`` is a
request id of the form ``|1d25001e-48e8e09dbddde4f4.``. Times are written as the service's .NET
serializer writes them (:func:`mdekit.emulator.clock.dotnet_times`).
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response
from fastapi.exceptions import HTTPException, RequestValidationError
from fastapi.routing import APIRoute

from mdekit.emulator.defender.jsonio import answer_bytes
from mdekit.emulator.defender.odata import ODataError

__all__ = [
    "ERROR_JSON",
    "ODATA_JSON",
    "REQUEST_ID_HEADER",
    "ApiFailure",
    "MdeRoute",
    "ODataResponse",
    "context_url",
    "entity",
    "error_body",
    "error_response",
    "failure_answer",
    "http_failure",
    "new_request_id",
    "not_found",
    "object_answer",
    "odata_collection",
]

#: The content type the real service sends with data (service-facts §3.2).
ODATA_JSON = "application/json; odata.metadata=minimal; odata.streaming=true; charset=utf-8"
#: ... and with errors (real 400/404 captures [FS:14150995490], [FS:14498522024]).
ERROR_JSON = "application/json; charset=utf-8"
REQUEST_ID_HEADER = "request-id"


def new_request_id() -> str:
    """A request id in the form real error ``target`` values take: ``|76dce355-471ae6d819782413.``."""
    return f"|{secrets.token_hex(4)}-{secrets.token_hex(8)}."


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
        return answer_bytes(content)


class ErrorResponse(Response):
    """An error envelope: plain JSON, no ``OData-Version`` (as real error answers)."""

    media_type = ERROR_JSON

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def error_body(code: str, message: str, target: str) -> dict[str, Any]:
    """The MDE error envelope."""
    return {"error": {"code": code, "message": message, "target": target}}


def context_url(request: Request, fragment: str) -> str:
    """``https://<Host header>/api/$metadata#<fragment>``."""
    host = request.headers.get("host") or "api.securitycenter.microsoft.com"
    return f"https://{host}/api/$metadata#{fragment}"


def odata_collection(
    request: Request,
    set_name: str,
    items: list[Any],
    next_link: str | None = None,
    count: int | None = None,
) -> Any:
    """``{"@odata.context", ["@odata.count"], "value", ["@odata.nextLink"]}`` (the order the
    service's OData writer uses; ``@odata.count`` before ``value`` as in [FS:21215703850])."""
    body: dict[str, Any] = {"@odata.context": context_url(request, set_name)}
    if count is not None:
        body["@odata.count"] = count
    body["value"] = items
    if next_link:
        body["@odata.nextLink"] = next_link
    return ODataResponse(body)


def entity(
    request: Request,
    set_name: str,
    item: dict[str, Any],
    status_code: int = 200,
    *,
    expand: tuple[str, ...] = (),
) -> ODataResponse:
    """A single entity: ``@odata.context`` ``#<Set>/$entity`` first, then its properties.

    On a GET (``/api/machines/{id}``, and the single-entity navigations ``/api/alerts/{id}/machine``
    and ``/api/alerts/{id}/user``): ``$select`` applies; an unknown ``$`` option is a 400 as on the
    lists; ``$expand`` must name one of *expand* (the entity's expandable properties). The
    collection options (``$top``, ``$skip``, ``$filter``, ``$orderby``, ``$count``) are accepted and
    change nothing. UNVERIFIED: no page or capture shows them on a single entity; ASP.NET OData
    refuses them there ("not a collection"), accepting them is the lenient choice.
    """
    from mdekit.emulator.defender.edm import item_type
    from mdekit.emulator.defender.listing import KNOWN_OPTIONS
    from mdekit.emulator.defender.odata import check_option_names
    from mdekit.emulator.defender.select import parse_select, project, select_fragment

    names, text = None, None
    if request.method == "GET":
        options = {k.lower(): v for k, v in request.query_params.items()}
        text = options.get("$select")
        try:
            check_option_names(options, KNOWN_OPTIONS)
            wanted = options.get("$expand", "").strip()
            if wanted and wanted.lower() not in {e.lower() for e in expand}:
                raise ODataError(f"Invalid $expand '{wanted}' on {set_name}")
            if text is not None:
                names = parse_select(text, item_type(f"{set_name}/$entity"), set_name)
        except ODataError as exc:
            raise ApiFailure(400, "ODataError", str(exc)) from None
    fragment = select_fragment(f"{set_name}/$entity", names, text)
    return ODataResponse(
        {"@odata.context": context_url(request, fragment), **project(item, names)}, status_code
    )


def object_answer(request: Request, fragment: str, item: Any) -> ODataResponse:
    """A single object whose context names a type, not an entity set (no ``/$entity``):
    ``#microsoft.windowsDefenderATP.api.InOrgIPStats`` (get-ip-statistics example, real file stats
    capture [FS:14410719314])."""
    return ODataResponse({"@odata.context": context_url(request, fragment), **item})


def _validation_message(exc: RequestValidationError) -> str:
    errors = exc.errors()
    if not errors:
        return "Request is invalid"
    first = errors[0]
    where = ".".join(str(p) for p in first.get("loc", ()) if p not in ("query", "path", "body"))
    return f"Invalid input {where}: {first.get('msg', 'invalid value')}"


def error_response(failure: ApiFailure, request_id: str | None = None) -> Response:
    """*failure* as the MDE API answers it: the envelope, its status, headers and ``request-id``."""
    request_id = request_id or new_request_id()
    response = ErrorResponse(
        error_body(failure.code, failure.message, request_id), failure.status, headers=failure.headers
    )
    response.headers[REQUEST_ID_HEADER] = request_id
    return response


#: Codes for HTTP errors raised outside the routes' own checks (no route, wrong method, a media type
#: the route does not take). 405/415 codes are not in the service's error table: UNVERIFIED.
_HTTP_CODES = {400: "BadRequest", 404: "NotFound", 405: "BadRequest", 415: "BadRequest", 422: "InvalidInput"}


def http_failure(status: int, message: str, headers: dict[str, str] | None = None) -> ApiFailure:
    """An :class:`ApiFailure` for a plain HTTP error (*status*) in the service's vocabulary."""
    return ApiFailure(status, _HTTP_CODES.get(status, "BadRequest"), message, headers)


def failure_answer(exc: Exception, request_id: str) -> Response:
    """*exc* raised by an MDE route as the service answers it (the envelope with *request_id*);
    anything else is re-raised (a 500 from the server's own handler)."""
    if isinstance(exc, ApiFailure):
        return error_response(exc, request_id)
    if isinstance(exc, ODataError):  # a filter SQLite itself refused as too complex (listing)
        return error_response(ApiFailure(400, "ODataError", str(exc)), request_id)
    if isinstance(exc, RequestValidationError):
        return error_response(ApiFailure(400, "InvalidInput", _validation_message(exc)), request_id)
    if isinstance(exc, HTTPException):
        return error_response(http_failure(exc.status_code, str(exc.detail)), request_id)
    raise exc


class MdeRoute(APIRoute):
    """APIRoute answering errors in the MDE envelope and tagging every answer with a request id."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def mde_handler(request: Request) -> Response:
            request_id = new_request_id()
            request.state.request_id = request_id
            try:
                response = await handler(request)
            except Exception as exc:
                return failure_answer(exc, request_id)
            response.headers[REQUEST_ID_HEADER] = request_id
            return response

        return mde_handler

    async def handle(self, scope: Any, receive: Any, send: Any) -> None:
        """A path this route serves, asked with another method: 405 in the MDE envelope.

        (Starlette raises it before the route handler runs, so ``mde_handler`` never sees it.)
        """
        method = scope["method"]
        if self.methods and method not in self.methods:
            # A real 405 (2023 capture: isolate asked with the wrong method) has ``Allow`` and an
            # empty body; the envelope is kept here so clients get a readable error (issue 12).
            message = f"The requested resource does not support http method '{method}'."
            allow = ", ".join(sorted(self.methods))
            failure = ApiFailure(405, "BadRequest", message, headers={"Allow": allow})
            await error_response(failure)(scope, receive, send)
            return
        await super().handle(scope, receive, send)
