"""Live response, its library and automated investigations: runliveresponse, result links,
``/api/libraryfiles``, startInvestigation."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Path, Request, Response

from mdekit.catalog import LIVE_RESPONSE
from mdekit.emulator.defender.actions import new_action
from mdekit.emulator.defender.auth import Caller, require
from mdekit.emulator.defender.live import Command
from mdekit.emulator.defender.routes.common import ERRORS, Prop, body_schema, read_body, store
from mdekit.emulator.defender.routes.downloads import result_path
from mdekit.emulator.defender.routes.machines import load_machine
from mdekit.emulator.defender.wire import (
    ApiFailure,
    MdeRoute,
    ODataResponse,
    bad_request,
    context_url,
    entity,
    not_found,
    odata_collection,
)
from mdekit.emulator.routing import PrefixRouter

router = PrefixRouter(route_class=MdeRoute, tags=["Live response"], responses=ERRORS)

ID = Path(description="Machine id or computer name")
ACTION_ID = Path(description="Machine action id")
_BODY = {"Commands": Prop("array", required=True, items="object"), "Comment": Prop()}
_INVESTIGATE = {"Comment": Prop(required=True)}
_PARAMS = {name: (required, optional) for name, required, optional in LIVE_RESPONSE.params}
#: Live response runs on Windows 10/11 and Server 2012 R2 and later, macOS and Linux (live-response
#: page); a machine of any other platform is refused like offboarding Linux (code UNVERIFIED).
_PLATFORMS = (
    "Windows10",
    "Windows11",
    "WindowsServer2012R2",
    "WindowsServer2016",
    "WindowsServer2019",
    "WindowsServer2022",
    "WindowsServer2025",
    "Linux",
    "macOS",
)


def _invalid(message: str) -> ApiFailure:
    return bad_request("InvalidInput", f"Invalid input Commands: {message}")


def parse_commands(items: list[Any]) -> list[Command]:
    """The request's ``Commands`` checked: types, parameter keys, order (PutFile, RunScript, GetFile)."""
    if not items:
        raise _invalid("at least one command is required")
    commands, last = [], 0
    for i, item in enumerate(items):
        if not isinstance(item, dict) or set(item) - {"type", "params"}:
            raise _invalid(f"command {i} must be an object with 'type' and 'params'")
        kind, params = item.get("type"), item.get("params") or []
        if kind not in _PARAMS:
            raise _invalid(
                f"command {i} has type '{kind}'; allowed: {', '.join(LIVE_RESPONSE.command_order)}"
            )
        # "must be in this order with no limit on repetitions" (run-live-response); that the
        # service enforces the order is UNVERIFIED.
        rank = LIVE_RESPONSE.command_order.index(kind)
        if rank < last:
            order = ", ".join(LIVE_RESPONSE.command_order)
            raise _invalid(f"command {i} ({kind}) is out of order: commands must be {order}")
        last = rank
        commands.append(Command(kind, _params(i, kind, params), {"type": kind, "params": params}))
    return commands


def _params(i: int, kind: str, params: Any) -> dict[str, str]:
    required, optional = _PARAMS[kind]
    if not isinstance(params, list):
        raise _invalid(f"command {i} params must be a list of {{'key', 'value'}}")
    found: dict[str, str] = {}
    for p in params:
        if not isinstance(p, dict) or set(p) != {"key", "value"} or not isinstance(p["key"], str):
            raise _invalid(f"command {i} params must be a list of {{'key', 'value'}}")
        if p["key"] not in (*required, *optional):
            raise _invalid(f"command {i} ({kind}) has no parameter '{p['key']}'")
        if not isinstance(p["value"], str) or (p["key"] in required and not p["value"].strip()):
            raise _invalid(f"command {i} ({kind}) parameter '{p['key']}' must be a non-empty string")
        found[p["key"]] = p["value"]
    missing = [k for k in required if k not in found]
    if missing:
        raise ApiFailure(
            400, "MissingRequiredParameter", f"Parameter {missing[0]} of command {i} is missing."
        )
    return found


@router.post(
    "/api/machines/{id}/runliveresponse",
    operation_id="actions_live_response",
    summary="Run live response commands (PutFile, RunScript, GetFile)",
    status_code=201,
    openapi_extra=body_schema(_BODY),
)
async def run_live_response(
    request: Request, id: str = ID, caller: Caller = Depends(require("actions.live_response"))
) -> Any:
    body = await read_body(request, _BODY)
    commands = parse_commands(body["Commands"])
    comment = body.get("Comment")
    if comment is not None and not isinstance(comment, str):
        raise bad_request("InvalidRequestBody", "Request body is incorrect: 'Comment' must be of type string")
    machine = load_machine(request, caller, id)
    if machine["osPlatform"] not in _PLATFORMS:
        raise ApiFailure(
            400,
            "OsPlatformNotSupported",
            f"OS Platform {machine['osPlatform']} isn't supported for this action.",
        )
    defender = store(request)
    action = new_action("LiveResponse", machine, caller.display_name, comment or "", defender.clock.time())
    action = defender.live.start(caller.tenant_id, caller.app_id, machine, action, commands)
    return entity(request, "MachineActions", action, status_code=201)


@router.get(
    "/api/machineactions/{id}/GetLiveResponseResultDownloadLink(index={index})",
    operation_id="actions_live_response_result",
    summary="A 30-minute download link to a live response command's result",
)
def result_link(
    request: Request,
    id: str = ACTION_ID,
    index: str = Path(description="Command index (0-based)"),
    caller: Caller = Depends(require("actions.live_response_result")),
) -> Any:
    defender = store(request)
    action = defender.actions.get(caller.tenant_id, id)
    if action is None:
        raise not_found("MachineAction", id)
    try:
        number = int(index)
    except ValueError:
        raise bad_request("InvalidInput", f"Invalid input index: '{index}'") from None
    defender.live.result(caller.tenant_id, action, number)  # 404 unless there is a result
    path = result_path(caller.tenant_id, action["id"], number)
    host = request.headers.get("host") or "localhost"
    url = f"https://{host}{path}?{defender.links.query(path, LIVE_RESPONSE.link_seconds)}"
    return ODataResponse({"@odata.context": context_url(request, "Edm.String"), "value": url})


@router.get("/api/libraryfiles", operation_id="library_list", summary="List the live response library")
def list_library(request: Request, caller: Caller = Depends(require("library.list"))) -> Any:
    return odata_collection(request, "LibraryFiles", store(request).library.list(caller.tenant_id))


_UPLOAD_DOC: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {
                        "File": {"type": "string", "format": "binary"},
                        "Description": {"type": "string"},
                        "ParametersDescription": {"type": "string"},
                        "HasParameters": {"type": "boolean"},
                        "OverrideIfExists": {"type": "boolean"},
                    },
                    "required": ["File"],
                }
            }
        },
    }
}
_FORM_FIELDS = ("File", "Description", "ParametersDescription", "HasParameters", "OverrideIfExists")


def _flag(form: dict[str, Any], name: str) -> bool:
    value = form.get(name)
    if value is None or value == "":
        return False
    if not isinstance(value, str) or value.lower() not in ("true", "false"):
        raise bad_request("InvalidInput", f"Invalid input {name}: '{value}' (expected true or false)")
    return value.lower() == "true"


@router.post(
    "/api/libraryfiles",
    operation_id="library_upload",
    summary="Upload a file to the live response library (multipart/form-data, 20 MB at most)",
    openapi_extra=_UPLOAD_DOC,
)
async def upload_library(request: Request, caller: Caller = Depends(require("library.upload"))) -> Any:
    limit = LIVE_RESPONSE.library_file_bytes
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise bad_request("InvalidRequestBody", "Request body is incorrect: expected multipart/form-data")
    length = request.headers.get("content-length", "")
    if length.isdigit() and int(length) > limit + 64 * 1024:
        raise bad_request("InvalidInput", f"File size exceeds the maximum of {limit // (1024 * 1024)} MB")
    try:
        form = await request.form(max_files=1, max_fields=16)
    except Exception:
        raise bad_request(
            "InvalidRequestBody", "Request body is incorrect: malformed multipart/form-data"
        ) from None
    try:  # every uploaded part is a spooled temporary file: closed whatever is refused below
        # The docs' table says "File", their curl example "file": accept any case of the part names.
        fields: dict[str, Any] = {}
        for key, value in form.multi_items():
            canonical = next((f for f in _FORM_FIELDS if f.lower() == key.lower()), None)
            if canonical is not None:
                fields[canonical] = value
        upload = fields.get("File")
        if upload is None or isinstance(upload, str):
            raise ApiFailure(400, "MissingRequiredParameter", "Parameter File is missing.")
        name = upload.filename or ""
        content = await upload.read(limit + 1)
    finally:
        await form.close()
    for text in ("Description", "ParametersDescription"):
        if text in fields and not isinstance(fields[text], str):
            raise bad_request("InvalidInput", f"Invalid input {text}: expected text")
    item = store(request).library.upload(
        caller.tenant_id,
        name,
        content,
        created_by=caller.display_name,
        description=fields.get("Description") or None,
        parameters_description=fields.get("ParametersDescription"),
        has_parameters=_flag(fields, "HasParameters"),
        override=_flag(fields, "OverrideIfExists"),
    )
    return entity(request, "LibraryFiles", item)


@router.delete(
    "/api/libraryfiles/{id}",
    operation_id="library_delete",
    summary="Delete a file from the live response library",
    status_code=204,
)
def delete_library(
    request: Request,
    id: str = Path(description="File name"),
    caller: Caller = Depends(require("library.delete")),
) -> Response:
    if not store(request).library.delete(caller.tenant_id, id):
        raise not_found("Library file", id)
    return Response(status_code=204)


@router.post(
    "/api/machines/{id}/startInvestigation",
    operation_id="investigations_start",
    summary="Start an automated investigation on a machine",
    status_code=201,
    openapi_extra=body_schema(_INVESTIGATE),
)
async def start_investigation(
    request: Request, id: str = ID, caller: Caller = Depends(require("investigations.start"))
) -> Any:
    await read_body(request, _INVESTIGATE)
    machine = load_machine(request, caller, id)
    item = store(request).air.start(caller.tenant_id, machine)
    return entity(request, "Investigations", item, status_code=201)
