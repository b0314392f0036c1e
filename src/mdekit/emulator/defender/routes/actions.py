"""Machine actions: isolate, restrict, scan, collect, quarantine, offboard; list, get, cancel, package URI."""

from __future__ import annotations

import re
from typing import Any

from fastapi import Depends, Path, Request

from mdekit.catalog import LIVE_RESPONSE
from mdekit.emulator.defender import enums
from mdekit.emulator.defender.actions import new_action
from mdekit.emulator.defender.auth import Caller, require
from mdekit.emulator.defender.platforms import check_platform
from mdekit.emulator.defender.routes.common import (
    COUNT,
    ERRORS,
    FILTER,
    ORDERBY,
    SELECT,
    SKIP,
    TOP,
    Prop,
    body_schema,
    count_route,
    list_answer,
    list_options,
    read_body,
    store,
)
from mdekit.emulator.defender.routes.downloads import package_resource
from mdekit.emulator.defender.routes.machines import load_machine
from mdekit.emulator.defender.wire import ApiFailure, MdeRoute, ODataResponse, context_url, entity, not_found
from mdekit.emulator.routing import PrefixRouter

router = PrefixRouter(route_class=MdeRoute, tags=["Machine actions"], responses=ERRORS)

_SHA1 = re.compile(r"^[0-9a-fA-F]{40}$")
_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")


def _action_key(action_id: str) -> str:
    """A machine action's id must be a GUID (the key is an ``Edm.Guid``): 400 as a real answer words it
    ([FS:14836733723], a machine id given as an action id)."""
    if not _GUID.match(action_id):
        shown = action_id if len(action_id) <= 200 else f"{action_id[:100]}..."
        raise ApiFailure(
            400,
            "BadRequest",
            f"The key value ({shown}) from request is not valid. The key value should be format of type "
            "'Edm.Guid'.",
        )
    return action_id


_COMMENT = {"Comment": Prop(required=True)}
_ISOLATE = {**_COMMENT, "IsolationType": Prop(values=enums.ISOLATION_TYPES)}
_SCAN = {**_COMMENT, "ScanType": Prop(values=enums.SCAN_TYPES)}
_QUARANTINE = {
    **_COMMENT,
    "Sha1": Prop(required=True, check=lambda v: None if _SHA1.match(v) else f"'{v}' is not a SHA-1 hash"),
}
ID = Path(description="Machine id or computer name")
ACTION_ID = Path(description="Machine action id")


async def _create(
    request: Request,
    caller: Caller,
    machine_key: str,
    action_type: str,
    props: dict[str, Prop],
    scope_key: str | None = None,
) -> Any:
    body = await read_body(request, props)
    machine = load_machine(request, caller, machine_key)
    scope = body.get(scope_key) if scope_key else None
    if scope_key == "IsolationType":
        scope = scope or "Full"
    check_platform(action_type, scope, machine)
    action = new_action(
        action_type,
        machine,
        caller.display_name,
        body["Comment"],
        request.app.state.emu.clock.time(),
        scope=scope,
        file_sha1=body.get("Sha1"),
    )
    store(request).actions.create(caller.tenant_id, caller.app_id, action)
    return entity(request, "MachineActions", action, status_code=201)


def _route(
    path: str, op: str, action_type: str, props: dict[str, Prop], summary: str, scope_key: str | None = None
) -> None:
    async def endpoint(request: Request, id: str = ID, caller: Caller = Depends(require(op))) -> Any:
        return await _create(request, caller, id, action_type, props, scope_key)

    endpoint.__name__ = op.replace(".", "_")
    router.add_api_route(
        path,
        endpoint,
        methods=["POST"],
        status_code=201,
        operation_id=endpoint.__name__,
        summary=summary,
        openapi_extra=body_schema(props),
    )


_route(
    "/api/machines/{id}/isolate", "actions.isolate", "Isolate", _ISOLATE, "Isolate a machine", "IsolationType"
)
_route("/api/machines/{id}/unisolate", "actions.unisolate", "Unisolate", _COMMENT, "Release from isolation")
_route(
    "/api/machines/{id}/restrictCodeExecution",
    "actions.restrict",
    "RestrictCodeExecution",
    _COMMENT,
    "Restrict app execution",
)
_route(
    "/api/machines/{id}/unrestrictCodeExecution",
    "actions.unrestrict",
    "UnrestrictCodeExecution",
    _COMMENT,
    "Remove app restriction",
)
_route(
    "/api/machines/{id}/runAntiVirusScan",
    "actions.scan",
    "RunAntiVirusScan",
    _SCAN,
    "Run an antivirus scan",
    "ScanType",
)
_route(
    "/api/machines/{id}/collectInvestigationPackage",
    "actions.collect",
    "CollectInvestigationPackage",
    _COMMENT,
    "Collect an investigation package",
)
_route(
    "/api/machines/{id}/StopAndQuarantineFile",
    "actions.quarantine",
    "StopAndQuarantineFile",
    _QUARANTINE,
    "Stop and quarantine a file",
)
_route("/api/machines/{id}/offboard", "actions.offboard", "Offboard", _COMMENT, "Offboard a machine")


@router.get("/api/machineactions", operation_id="actions_list", summary="List machine actions")
def list_actions(
    request: Request,
    caller: Caller = Depends(require("actions.list")),
    f: str | None = FILTER,
    top: str | None = TOP,
    skip: str | None = SKIP,
    select: str | None = SELECT,
    orderby: str | None = ORDERBY,
    count: str | None = COUNT,
) -> Any:
    query = list_options(request, enums.ACTION_FIELDS, "MachineActions")
    items, more = store(request).actions.answer_page(caller.tenant_id, query)
    return list_answer(request, "MachineActions", query, items, more)


count_route(router, list_actions, "actions.count")


@router.get("/api/machineactions/{id}", operation_id="actions_get", summary="Get a machine action")
def get_action(
    request: Request, id: str = ACTION_ID, caller: Caller = Depends(require("actions.get"))
) -> Any:
    action = store(request).actions.get(caller.tenant_id, _action_key(id))
    if action is None:
        raise not_found("MachineAction", id)
    return entity(request, "MachineActions", action)


@router.post(
    "/api/machineactions/{id}/cancel",
    operation_id="actions_cancel",
    summary="Cancel a machine action",
    openapi_extra=body_schema(_COMMENT),
)
async def cancel_action(
    request: Request, id: str = ACTION_ID, caller: Caller = Depends(require("actions.cancel"))
) -> Any:
    body = await read_body(request, _COMMENT)
    action = store(request).actions.cancel(
        caller.tenant_id, _action_key(id), caller.display_name, body["Comment"]
    )
    if action is None:
        raise not_found("MachineAction", id)
    return entity(request, "MachineActions", action)


@router.get(
    "/api/machineactions/{id}/getPackageUri",
    operation_id="actions_package_uri",
    summary="Download link of a collected investigation package",
)
def package_uri(
    request: Request, id: str = ACTION_ID, caller: Caller = Depends(require("actions.package_uri"))
) -> Any:
    defender = store(request)
    action = defender.actions.get(caller.tenant_id, _action_key(id))
    if action is None:
        raise not_found("MachineAction", id)
    if action["type"] != "CollectInvestigationPackage":  # a real answer's code and words [FS:14498522024]
        raise ApiFailure(
            400, "InvalidInput", "Provided Guid is not a valid id for a CollectInvestigationPackage action"
        )
    if action["status"] != "Succeeded":  # "404 if the action exists but is not complete" (docs)
        raise not_found("Investigation package of action", id)
    # A signed link on this host, expiring on the virtual clock (the real link's lifetime is not
    # documented: 30 minutes like live response results, UNVERIFIED).
    resource = package_resource(caller.tenant_id, action["id"])
    host = request.headers.get("host") or "localhost"
    url = f"https://{host}{resource}&{defender.links.query(resource, LIVE_RESPONSE.link_seconds)}"
    # The value in the form the docs show, quotes included ("\"https://...\"", get-package-sas-uri;
    # every localized copy the same); a third-party fixture has it unquoted (service-facts-2 §2.4):
    # which the service sends today is UNVERIFIED, so clients should accept both.
    return ODataResponse({"@odata.context": context_url(request, "Edm.String"), "value": f'"{url}"'})
