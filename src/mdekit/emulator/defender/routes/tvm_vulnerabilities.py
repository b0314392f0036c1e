"""``/api/vulnerabilities``: the CVEs TVM knows, the machines they expose, per machine and software."""

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
from mdekit.emulator.defender.routes.tvm_common import (
    PUBLIC_VULNERABILITIES,
    computed_list,
    machine_view,
    org,
    references,
    tvm,
)
from mdekit.emulator.defender.tvm.cves import CVE_BY_ID, Cve
from mdekit.emulator.defender.tvm.fields import MACHINE_VULN_FIELDS, VULNERABILITY_FIELDS
from mdekit.emulator.defender.wire import MdeRoute, entity, not_found
from mdekit.emulator.routing import PrefixRouter

router = PrefixRouter(route_class=MdeRoute, tags=["Vulnerabilities"], responses=ERRORS)

CVE_ID = Path(description="CVE id, e.g. CVE-2024-38063")
_MAX_TOP = 8_000  # get-all-vulnerabilities: "$top with max value of 8,000"


def _cve(cve_id: str) -> Cve:
    found = CVE_BY_ID.get(cve_id.upper())
    if found is None:
        raise not_found("Vulnerability", cve_id)
    return found


@router.get("/api/vulnerabilities", operation_id="vulnerabilities_list", summary="List vulnerabilities")
def list_vulnerabilities(
    request: Request,
    caller: Caller = Depends(require("vulnerabilities.list")),
    f: str | None = FILTER,
    top: str | None = TOP,
    skip: str | None = SKIP,
    select: str | None = SELECT,
    orderby: str | None = ORDERBY,
    count: str | None = COUNT,
) -> Any:
    items = org(request, caller).vulnerabilities()
    return computed_list(request, "Vulnerabilities", VULNERABILITY_FIELDS, items, max_top=_MAX_TOP)


count_route(router, list_vulnerabilities, "vulnerabilities.count")


@router.get(
    "/api/vulnerabilities/machinesVulnerabilities",
    operation_id="vulnerabilities_by_machine_and_software",
    summary="Vulnerabilities per machine and software version",
)
def machines_vulnerabilities(
    request: Request,
    caller: Caller = Depends(require("vulnerabilities.by_machine_and_software")),
    f: str | None = FILTER,
    top: str | None = TOP,
    skip: str | None = SKIP,
    select: str | None = SELECT,
    orderby: str | None = ORDERBY,
    count: str | None = COUNT,
) -> Any:
    set_name = "Collection(microsoft.windowsDefenderATP.api.PublicAssetVulnerabilityDto)"
    query = list_options(request, MACHINE_VULN_FIELDS, set_name)
    items, more = tvm(request).machine_vulnerability_page(caller.tenant_id, query, 10_000)
    return list_answer(request, set_name, query, items, more)


count_route(router, machines_vulnerabilities, "vulnerabilities.by_machine_and_software_count")


@router.get(
    "/api/vulnerabilities/{id}", operation_id="vulnerabilities_get", summary="Get a vulnerability by CVE id"
)
def get_vulnerability(
    request: Request, id: str = CVE_ID, caller: Caller = Depends(require("vulnerabilities.get"))
) -> Any:
    return entity(request, "Vulnerabilities", org(request, caller).vulnerability(_cve(id)))


@router.get(
    "/api/vulnerabilities/{id}/machineReferences",
    operation_id="vulnerabilities_machine_references",
    summary="Machines exposed to a vulnerability",
)
def vulnerability_machines(
    request: Request,
    id: str = CVE_ID,
    caller: Caller = Depends(require("vulnerabilities.machine_references")),
) -> Any:
    cve = _cve(id)
    return references(request, caller, tvm(request).machines_with_cve(caller.tenant_id, cve.id))


@router.get(
    "/api/machines/{id}/vulnerabilities",
    operation_id="vulnerabilities_by_machine",
    summary="Vulnerabilities discovered on a machine",
)
def machine_vulnerabilities(
    request: Request, id: str = Path(), caller: Caller = Depends(require("vulnerabilities.by_machine"))
) -> Any:
    view, _, installs = machine_view(request, caller, id)
    return collection_answer(request, PUBLIC_VULNERABILITIES, view.dtos(view.machine_cves(installs)))
