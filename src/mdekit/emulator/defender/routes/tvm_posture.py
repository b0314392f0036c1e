"""Remediation activities, exposure and configuration scores, and device antivirus health."""

from __future__ import annotations

from typing import Any

from fastapi import Depends, Path, Request

from mdekit.emulator.defender.auth import Caller, require
from mdekit.emulator.defender.routes.common import (
    COUNT,
    ERRORS,
    FILTER,
    ORDERBY,
    SELECT,
    SKIP,
    TOP,
    collection_answer,
    count_route,
    list_answer,
    list_options,
)
from mdekit.emulator.defender.routes.tvm_common import org, references, tvm
from mdekit.emulator.defender.routes.tvm_recommendations import exposed_machines
from mdekit.emulator.defender.tvm.entities import OrgView
from mdekit.emulator.defender.tvm.fields import AV_FIELDS, REMEDIATION_FIELDS
from mdekit.emulator.defender.wire import MdeRoute, entity, not_found
from mdekit.emulator.routing import PrefixRouter

router = PrefixRouter(route_class=MdeRoute, tags=["Remediation, scores, antivirus health"], responses=ERRORS)

_AV_PAGE = 20  # device-health-export-antivirus-health-report-api: "Default page size is 20"


def _subject(task: dict[str, Any]) -> dict[str, Any]:
    """The recommendation-like key of what a task remediates (software product or configuration)."""
    if task.get("scid"):
        return {"id": f"sca-_-{task['scid']}"}
    return {"id": f"va-_-{task['productId']}", "vendor": task["vendorId"], "productName": task["nameId"]}


def _with_progress(view: OrgView, task: dict[str, Any]) -> dict[str, Any]:
    """``fixedDevices``: targeted machines no longer exposed (the machines' current state)."""
    still = len(exposed_machines(view, _subject(task)))
    return {**task, "fixedDevices": max(0, task["targetDevices"] - still)}


def _task(request: Request, caller: Caller, task_id: str) -> dict[str, Any]:
    found = tvm(request).remediation(caller.tenant_id, task_id)
    if found is None:
        raise not_found("Remediation task", task_id)
    return found


@router.get("/api/remediationTasks", operation_id="remediation_list", summary="List remediation activities")
def list_remediation(
    request: Request,
    caller: Caller = Depends(require("remediation.list")),
    f: str | None = FILTER,
    top: str | None = TOP,
    skip: str | None = SKIP,
    select: str | None = SELECT,
    orderby: str | None = ORDERBY,
    count: str | None = COUNT,
) -> Any:
    query = list_options(request, REMEDIATION_FIELDS, "RemediationTasks")
    items, more = tvm(request).remediation_page(caller.tenant_id, query)
    view = org(request, caller)
    return list_answer(request, "RemediationTasks", query, [_with_progress(view, t) for t in items], more)


count_route(router, list_remediation, "remediation.count")


@router.get(
    "/api/remediationTasks/{id}", operation_id="remediation_get", summary="Get a remediation activity"
)
def get_remediation(
    request: Request, id: str = Path(), caller: Caller = Depends(require("remediation.get"))
) -> Any:
    return entity(
        request, "RemediationTasks", _with_progress(org(request, caller), _task(request, caller, id))
    )


@router.get(
    "/api/remediationTasks/{id}/machineReferences",
    operation_id="remediation_machine_references",
    summary="Machines a remediation activity still targets",
)
def remediation_machines(
    request: Request, id: str = Path(), caller: Caller = Depends(require("remediation.machine_references"))
) -> Any:
    task = _task(request, caller, id)
    return references(request, caller, exposed_machines(org(request, caller), _subject(task)))


def _now(request: Request) -> str:
    return request.app.state.emu.clock.now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


@router.get("/api/exposureScore", operation_id="scores_exposure", summary="The organization's exposure score")
def exposure_score(request: Request, caller: Caller = Depends(require("scores.exposure"))) -> Any:
    return entity(
        request, "ExposureScore", {"time": _now(request), "score": org(request, caller).exposure_score()}
    )


@router.get(
    "/api/exposureScore/ByMachineGroups",
    operation_id="scores_exposure_by_machine_groups",
    summary="Exposure score of each machine group",
)
def exposure_by_group(
    request: Request, caller: Caller = Depends(require("scores.exposure_by_machine_groups"))
) -> Any:
    view = org(request, caller)
    now = _now(request)
    groups = tvm(request).distribution_by_group(caller.tenant_id)
    items = [
        {"time": now, "score": view.exposure_score(dist, fleet), "rbacGroupName": group or "UnassignedGroup"}
        for group, (dist, fleet) in sorted(groups.items(), key=lambda kv: kv[0] or "")
    ]
    return collection_answer(request, "ExposureScore", items)


@router.get(
    "/api/configurationScore",
    operation_id="scores_configuration",
    summary="The organization's configuration score",
)
def configuration_score(request: Request, caller: Caller = Depends(require("scores.configuration"))) -> Any:
    view = org(request, caller)
    return entity(request, "ConfigurationScore", {"time": _now(request), "score": view.configuration_score()})


@router.get(
    "/api/deviceavinfo", operation_id="machines_av_health", summary="Antivirus health of every machine"
)
def device_av_info(
    request: Request,
    caller: Caller = Depends(require("machines.av_health")),
    f: str | None = FILTER,
    top: str | None = TOP,
    skip: str | None = SKIP,
    select: str | None = SELECT,
    orderby: str | None = ORDERBY,
    count: str | None = COUNT,
) -> Any:
    query = list_options(request, AV_FIELDS, "DeviceAvInfo")
    items, more = tvm(request).av_page(caller.tenant_id, query, _AV_PAGE)
    return list_answer(request, "DeviceAvInfo", query, items, more)


count_route(router, device_av_info, "machines.av_health_count")
