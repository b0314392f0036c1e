"""``/api/machines``: list, get, update, tags, device value, find by IP/tag, logon users, alerts."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any

from fastapi import Depends, Path, Query, Request

from mdekit.emulator.clock import parse_time
from mdekit.emulator.defender import enums
from mdekit.emulator.defender.auth import Caller, require
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
    collection_answer,
    count_route,
    list_answer,
    list_options,
    read_body,
    store,
)
from mdekit.emulator.defender.wire import (
    ApiFailure,
    MdeRoute,
    bad_request,
    entity,
    not_found,
    odata_collection,
)
from mdekit.emulator.routing import PrefixRouter

router = PrefixRouter(route_class=MdeRoute, tags=["Machines"], responses=ERRORS)

_TAG_ACTIONS = ("Add", "Remove")
_PATCH = {"machineTags": Prop("array"), "deviceValue": Prop(values=enums.DEVICE_VALUES)}
_TAG = {"Value": Prop(required=True), "Action": Prop(required=True, values=_TAG_ACTIONS)}
_TAGS_BULK = {**_TAG, "MachineIds": Prop("array", required=True)}
_VALUE = {"DeviceValue": Prop(required=True, values=enums.DEVICE_VALUES)}
ID = Path(description="Machine id or computer name")


def load_machine(request: Request, caller: Caller, key: str) -> dict[str, Any]:
    """The caller's machine by id or name (pending actions settled first); 404 otherwise."""
    defender = store(request)
    defender.actions.settle(caller.tenant_id)
    machine = defender.machines.get(caller.tenant_id, key)
    if machine is None:
        raise not_found("Machine", key)
    return machine


def _tag(machine: dict[str, Any], value: str, action: str) -> None:
    tags = [t for t in machine["machineTags"] if t.lower() != value.lower()]
    if action == "Add":
        tags.append(value)
    machine["machineTags"] = tags


def _check_tag(value: str) -> None:
    if not value.strip() or len(value) > 200:
        raise bad_request("InvalidInput", "Invalid input Value: a tag must have 1 to 200 characters")


@router.get("/api/machines", operation_id="machines_list", summary="List machines")
def list_machines(
    request: Request,
    caller: Caller = Depends(require("machines.list")),
    f: str | None = FILTER,
    top: str | None = TOP,
    skip: str | None = SKIP,
    select: str | None = SELECT,
    orderby: str | None = ORDERBY,
    count: str | None = COUNT,
) -> Any:
    query = list_options(request, enums.MACHINE_FIELDS, "Machines")
    defender = store(request)
    defender.actions.settle(caller.tenant_id)
    items, more = defender.machines.answer_page(caller.tenant_id, query)
    return list_answer(request, "Machines", query, items, more)


count_route(router, list_machines, "machines.count")


@router.post(
    "/api/machines/AddOrRemoveTagForMultipleMachines",
    operation_id="machines_tags_bulk",
    summary="Add or remove a tag on several machines",
    openapi_extra=body_schema(_TAGS_BULK),
)
async def tags_bulk(request: Request, caller: Caller = Depends(require("machines.tags_bulk"))) -> Any:
    body = await read_body(request, _TAGS_BULK)
    _check_tag(body["Value"])
    ids = body["MachineIds"]
    if not ids or len(ids) > 500:
        raise ApiFailure(
            400,
            "MaximumBatchSizeExceeded" if ids else "InvalidInput",
            f"Maximum batch size exceeded. Received: {len(ids)}, allowed: 500."
            if ids
            else "Invalid input MachineIds: at least one id is required",
        )
    defender = store(request)
    machines = defender.machines.by_ids(caller.tenant_id, ids)
    for machine in machines:
        _tag(machine, body["Value"], body["Action"])
        defender.machines.save(caller.tenant_id, machine)
    return odata_collection(request, "Machines", machines)


@router.get("/api/machines/findbytag", operation_id="machines_find_by_tag", summary="Find machines by tag")
def find_by_tag(
    request: Request,
    tag: str = Query(..., min_length=1),
    useStartsWithFilter: bool = False,
    caller: Caller = Depends(require("machines.find_by_tag")),
) -> Any:
    defender = store(request)
    defender.actions.settle(caller.tenant_id)
    found = defender.machines.find_by_tag(caller.tenant_id, tag, useStartsWithFilter)
    return collection_answer(request, "Machines", found, enums.MACHINE_FIELDS)


@router.get(
    "/api/machines/findbyip(ip='{ip}',timestamp={timestamp})",
    operation_id="machines_find_by_ip",
    summary="Find machines seen with an IP address around a time",
)
def find_by_ip(
    request: Request, ip: str, timestamp: str, caller: Caller = Depends(require("machines.find_by_ip"))
) -> Any:
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        raise bad_request("InvalidIpAddress", f"IP address {ip} is invalid") from None
    try:
        when = parse_time(timestamp)
    except ValueError:
        raise bad_request("InvalidInput", f"Invalid input timestamp: '{timestamp}'") from None
    now = request.app.state.emu.clock.now()
    if not now - timedelta(days=30) <= when <= now + timedelta(minutes=15):
        raise bad_request("InvalidInput", "The timestamp must be within the last 30 days")
    defender = store(request)
    defender.actions.settle(caller.tenant_id)
    found = defender.machines.find_by_ip(caller.tenant_id, ip, timestamp)
    return collection_answer(request, "Machines", found, enums.MACHINE_FIELDS)


@router.get("/api/machines/{id}", operation_id="machines_get", summary="Get a machine by id or computer name")
def get_machine(request: Request, id: str = ID, caller: Caller = Depends(require("machines.get"))) -> Any:
    return entity(request, "Machines", load_machine(request, caller, id))


@router.patch(
    "/api/machines/{id}",
    operation_id="machines_update",
    summary="Update tags and device value",
    openapi_extra=body_schema(_PATCH),
)
async def update_machine(
    request: Request, id: str = ID, caller: Caller = Depends(require("machines.update"))
) -> Any:
    body = await read_body(request, _PATCH)
    machine = load_machine(request, caller, id)
    if "machineTags" in body:
        for tag in body["machineTags"]:
            _check_tag(tag)
        machine["machineTags"] = list(dict.fromkeys(body["machineTags"]))  # replaces the list
    if "deviceValue" in body:
        machine["deviceValue"] = body["deviceValue"]
    store(request).machines.save(caller.tenant_id, machine)
    return entity(request, "Machines", machine)


@router.post(
    "/api/machines/{id}/tags",
    operation_id="machines_tags",
    summary="Add or remove a machine tag",
    openapi_extra=body_schema(_TAG),
)
async def machine_tags(
    request: Request, id: str = ID, caller: Caller = Depends(require("machines.tags"))
) -> Any:
    body = await read_body(request, _TAG)
    _check_tag(body["Value"])
    machine = load_machine(request, caller, id)
    _tag(machine, body["Value"], body["Action"])
    store(request).machines.save(caller.tenant_id, machine)
    return entity(request, "Machines", machine)


@router.post(
    "/api/machines/{id}/setDeviceValue",
    operation_id="machines_set_device_value",
    summary="Set a machine's value",
    openapi_extra=body_schema(_VALUE),
)
async def set_device_value(
    request: Request, id: str = ID, caller: Caller = Depends(require("machines.set_device_value"))
) -> Any:
    body = await read_body(request, _VALUE)
    machine = load_machine(request, caller, id)
    machine["deviceValue"] = body["DeviceValue"]
    store(request).machines.save(caller.tenant_id, machine)
    return entity(request, "Machines", machine)


@router.get(
    "/api/machines/{id}/logonusers", operation_id="machines_logon_users", summary="Users who logged on"
)
def logon_users(
    request: Request, id: str = ID, caller: Caller = Depends(require("machines.logon_users"))
) -> Any:
    machine = load_machine(request, caller, id)
    return collection_answer(
        request, "Users", store(request).lookups.logon_users(caller.tenant_id, machine["id"])
    )


@router.get("/api/machines/{id}/alerts", operation_id="machines_alerts", summary="Alerts on a machine")
def machine_alerts(
    request: Request,
    id: str = ID,
    caller: Caller = Depends(require("machines.alerts")),
    f: str | None = FILTER,
    top: str | None = TOP,
    skip: str | None = SKIP,
    select: str | None = SELECT,
    orderby: str | None = ORDERBY,
    count: str | None = COUNT,
) -> Any:
    machine = load_machine(request, caller, id)
    query = list_options(request, enums.ALERT_FIELDS, "Alerts", expand=("evidence",))
    items, more = store(request).alerts.page(
        caller.tenant_id, query, extra_where="machine_id = ?", extra_params=(machine["id"],)
    )
    return list_answer(request, "Alerts", query, items, more)


count_route(router, machine_alerts, "machines.alerts_count")
