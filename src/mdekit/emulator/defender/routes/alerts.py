"""``/api/alerts``: list, get, update, batch update, related entities, create by reference."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Path, Request, Response
from starlette.concurrency import run_in_threadpool

from mdekit.emulator.clock import format_odata_time, parse_time
from mdekit.emulator.defender import enums
from mdekit.emulator.defender.auth import Caller, require
from mdekit.emulator.defender.events import event_exists
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
from mdekit.emulator.defender.seed.generator import fmt
from mdekit.emulator.defender.wire import ApiFailure, MdeRoute, entity, not_found
from mdekit.emulator.routing import PrefixRouter

router = PrefixRouter(route_class=MdeRoute, tags=["Alerts"], responses=ERRORS)

_UPDATE = {
    "status": Prop(values=enums.ALERT_UPDATE_STATUS),
    "assignedTo": Prop(),
    "classification": Prop(values=enums.CLASSIFICATIONS),
    "determination": Prop(values=enums.DETERMINATIONS),
    "comment": Prop(),
}
_BATCH = {"alertIds": Prop("array", required=True), **_UPDATE}


def _time_check(value: Any) -> str | None:
    try:
        parse_time(str(value))
    except ValueError:
        return f"'{value}' is not an ISO 8601 time"
    return None


def _report_id(value: Any) -> str | None:
    ok = isinstance(value, str) or (isinstance(value, int) and not isinstance(value, bool))
    return None if ok else "expected the event's ReportId (a number or its text)"


_CREATE = {
    "machineId": Prop(required=True),
    "severity": Prop(required=True, values=enums.SETTABLE_SEVERITIES),
    "title": Prop(required=True),
    "description": Prop(required=True),
    "recommendedAction": Prop(required=True),
    "eventTime": Prop(required=True, check=_time_check),
    # A string in the docs; advanced hunting gives ReportId as a number, which clients pass on.
    "reportId": Prop("any", required=True, check=_report_id),
    "category": Prop(required=True, values=enums.ALERT_CATEGORIES),
}
ID = Path(description="Alert id")


def _load(request: Request, caller: Caller, alert_id: str, evidence: bool = False) -> dict[str, Any]:
    alert = store(request).alerts.get(caller.tenant_id, alert_id, with_evidence=evidence)
    if alert is None:
        raise not_found("Alert", alert_id)
    return alert


def _apply(request: Request, caller: Caller, alert: dict[str, Any], body: dict[str, Any]) -> None:
    store(request).alerts.apply(alert, body, caller.display_name)


@router.get("/api/alerts", operation_id="alerts_list", summary="List alerts")
def list_alerts(
    request: Request,
    caller: Caller = Depends(require("alerts.list")),
    f: str | None = FILTER,
    top: str | None = TOP,
    skip: str | None = SKIP,
    select: str | None = SELECT,
    orderby: str | None = ORDERBY,
    count: str | None = COUNT,
) -> Any:
    query = list_options(request, enums.ALERT_FIELDS, "Alerts", expand=("evidence",))
    items, more = store(request).alerts.answer_page(caller.tenant_id, query)
    return list_answer(request, "Alerts", query, items, more)


count_route(router, list_alerts, "alerts.count")


@router.post(
    "/api/alerts/batchUpdate",
    operation_id="alerts_batch_update",
    summary="Update several alerts",
    openapi_extra=body_schema(_BATCH),
)
async def batch_update(
    request: Request, caller: Caller = Depends(require("alerts.batch_update"))
) -> Response:
    body = await read_body(request, _BATCH)
    ids = body.pop("alertIds")
    if not ids or len(ids) > 500:
        raise ApiFailure(
            400,
            "MaximumBatchSizeExceeded" if ids else "InvalidInput",
            f"Maximum batch size exceeded. Received: {len(ids)}, allowed: 500."
            if ids
            else "Invalid input alertIds: at least one id is required",
        )
    alerts = store(request).alerts
    loaded = [_load(request, caller, i) for i in dict.fromkeys(ids)]
    for alert in loaded:
        _apply(request, caller, alert, body)
        alerts.save(caller.tenant_id, alert)
    return Response(status_code=200)


@router.post(
    "/api/alerts/CreateAlertByReference",
    operation_id="alerts_create_by_reference",
    summary="Create an alert from an event",
    openapi_extra=body_schema(_CREATE),
)
async def create_by_reference(
    request: Request, caller: Caller = Depends(require("alerts.create_by_reference"))
) -> Any:
    body = await read_body(request, _CREATE)
    defender = store(request)
    machine = defender.machines.get(caller.tenant_id, body["machineId"])
    if machine is None:
        raise not_found("Machine", body["machineId"])
    state = request.app.state.emu
    # The hunting tables may need building: off the event loop, as the hunting routes run queries.
    event = (state, caller.tenant_id, machine["id"], body["reportId"], body["eventTime"])
    if not await run_in_threadpool(event_exists, *event):
        # "404 Not Found" for an unknown event (create-alert-by-reference); the words are UNVERIFIED.
        raise ApiFailure(
            404,
            "ResourceNotFound",
            f"Event with reportId {body['reportId']} at {body['eventTime']} on machine {machine['id']} "
            "was not found",
        )
    alert = _new_alert(request, caller, machine, body)
    with defender.db.tx() as c:
        defender.incidents.create(c, caller.tenant_id, [alert])  # every alert belongs to an incident
        defender.alerts.insert_many(c, caller.tenant_id, [(alert, [])])
    return entity(request, "Alerts", alert)


def _new_alert(
    request: Request, caller: Caller, machine: dict[str, Any], body: dict[str, Any]
) -> dict[str, Any]:
    clock = request.app.state.emu.clock
    now, event = clock.time(), parse_time(body["eventTime"])
    ticks = int(now * 10_000_000) + 621_355_968_000_000_000
    alert: dict[str, Any] = dict.fromkeys(enums.ALERT_KEYS)
    alert.update(
        id=f"ar{ticks}_{abs(hash(body['reportId'])) % 10**9}",
        incidentId=None,
        severity=body["severity"],
        status="New",
        investigationState="Queued",
        detectionSource="CustomDetection",
        category=body["category"],
        title=body["title"],
        description=body["description"],
        alertCreationTime=fmt(now),
        firstEventTime=format_odata_time(event),
        lastEventTime=format_odata_time(event),
        lastUpdateTime=fmt(now),
        machineId=machine["id"],
        computerDnsName=machine["computerDnsName"],
        rbacGroupName=machine["rbacGroupName"],
        aadTenantId=caller.tenant_id,
        mitreTechniques=[],
        loggedOnUsers=[],
        comments=[],
        evidence=[],
        domains=[],
    )
    return alert


@router.get("/api/alerts/{id}", operation_id="alerts_get", summary="Get an alert")
def get_alert(request: Request, id: str = ID, caller: Caller = Depends(require("alerts.get"))) -> Any:
    query = list_options(request, {}, "Alerts", expand=("evidence",))
    alert = _load(request, caller, id, evidence=query.expand == "evidence")
    return entity(request, "Alerts", alert, expand=("evidence",))


@router.patch(
    "/api/alerts/{id}",
    operation_id="alerts_update",
    summary="Update an alert",
    openapi_extra=body_schema(_UPDATE),
)
async def update_alert(
    request: Request, id: str = ID, caller: Caller = Depends(require("alerts.update"))
) -> Any:
    body = await read_body(request, _UPDATE)
    alert = _load(request, caller, id)
    _apply(request, caller, alert, body)
    store(request).alerts.save(caller.tenant_id, alert)
    return entity(request, "Alerts", alert)


@router.get("/api/alerts/{id}/domains", operation_id="alerts_domains", summary="Domains of an alert")
def alert_domains(request: Request, id: str = ID, caller: Caller = Depends(require("alerts.domains"))) -> Any:
    _load(request, caller, id)
    hosts = store(request).alerts.related_values(caller.tenant_id, id, "domain")
    return collection_answer(request, "Domains", [{"host": h} for h in hosts])


@router.get("/api/alerts/{id}/files", operation_id="alerts_files", summary="Files of an alert")
def alert_files(request: Request, id: str = ID, caller: Caller = Depends(require("alerts.files"))) -> Any:
    _load(request, caller, id)
    defender = store(request)
    sha1s = defender.alerts.related_values(caller.tenant_id, id, "file")
    return collection_answer(request, "Files", defender.lookups.files(caller.tenant_id, sha1s))


@router.get("/api/alerts/{id}/ips", operation_id="alerts_ips", summary="IP addresses of an alert")
def alert_ips(request: Request, id: str = ID, caller: Caller = Depends(require("alerts.ips"))) -> Any:
    _load(request, caller, id)
    ips = store(request).alerts.related_values(caller.tenant_id, id, "ip")
    return collection_answer(request, "Ips", [{"id": ip} for ip in ips])


@router.get("/api/alerts/{id}/machine", operation_id="alerts_machine", summary="Machine of an alert")
def alert_machine(request: Request, id: str = ID, caller: Caller = Depends(require("alerts.machine"))) -> Any:
    alert = _load(request, caller, id)
    defender = store(request)
    defender.actions.settle(caller.tenant_id)
    machine = defender.machines.get(caller.tenant_id, alert["machineId"] or "")
    if machine is None:
        raise not_found("Machine", alert["machineId"])
    return entity(request, "Machines", machine)


@router.get("/api/alerts/{id}/user", operation_id="alerts_user", summary="User of an alert")
def alert_user(request: Request, id: str = ID, caller: Caller = Depends(require("alerts.user"))) -> Any:
    alert = _load(request, caller, id)
    name = (alert.get("relatedUser") or {}).get("userName")
    user = store(request).lookups.user(caller.tenant_id, name) if name else None
    if user is None:
        raise not_found("User", name or f"of alert {id}")
    return entity(request, "Users", user)


__all__ = ["router"]
