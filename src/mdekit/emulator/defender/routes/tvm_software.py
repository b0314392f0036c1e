"""``/api/Software``: installed products, their vulnerabilities, machines, versions and missing KBs."""

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
)
from mdekit.emulator.defender.routes.tvm_common import (
    PUBLIC_VULNERABILITIES,
    computed_list,
    machine_view,
    org,
    references,
    tvm,
)
from mdekit.emulator.defender.tvm.entities import OrgView
from mdekit.emulator.defender.tvm.fields import SOFTWARE_FIELDS
from mdekit.emulator.defender.wire import MdeRoute, entity, not_found
from mdekit.emulator.routing import PrefixRouter

router = PrefixRouter(route_class=MdeRoute, tags=["Software"], responses=ERRORS)

SOFTWARE_ID = Path(description="Software id: vendor-_-product, e.g. google-_-chrome")
_MISSING_KBS = "Collection(microsoft.windowsDefenderATP.api.PublicProductFixDto)"


def _product(view: OrgView, software_id: str) -> tuple[str, str]:
    found = view.find_product(software_id)
    if found is None:
        raise not_found("Software", software_id)
    return found


@router.get("/api/Software", operation_id="software_list", summary="List the organization's software")
def list_software(
    request: Request,
    caller: Caller = Depends(require("software.list")),
    f: str | None = FILTER,
    top: str | None = TOP,
    skip: str | None = SKIP,
    select: str | None = SELECT,
    orderby: str | None = ORDERBY,
    count: str | None = COUNT,
) -> Any:
    return computed_list(request, "Software", SOFTWARE_FIELDS, org(request, caller).software_list())


count_route(router, list_software, "software.count")


@router.get("/api/Software/{id}", operation_id="software_get", summary="Get software by id")
def get_software(
    request: Request, id: str = SOFTWARE_ID, caller: Caller = Depends(require("software.get"))
) -> Any:
    view = org(request, caller)
    return entity(request, "Software", view.software(*_product(view, id)))


@router.get(
    "/api/Software/{id}/vulnerabilities",
    operation_id="software_vulnerabilities",
    summary="Vulnerabilities of the installed versions of a product",
)
def software_vulnerabilities(
    request: Request, id: str = SOFTWARE_ID, caller: Caller = Depends(require("software.vulnerabilities"))
) -> Any:
    view = org(request, caller)
    return collection_answer(
        request, PUBLIC_VULNERABILITIES, view.dtos(view.product_cves(*_product(view, id)))
    )


@router.get(
    "/api/Software/{id}/machineReferences",
    operation_id="software_machine_references",
    summary="Machines with a product installed",
)
def software_machines(
    request: Request, id: str = SOFTWARE_ID, caller: Caller = Depends(require("software.machine_references"))
) -> Any:
    vendor, name = _product(org(request, caller), id)
    return references(request, caller, tvm(request).machines_with_product(caller.tenant_id, vendor, name))


@router.get(
    "/api/Software/{id}/distributions",
    operation_id="software_distributions",
    summary="Installed versions of a product",
)
def software_distributions(
    request: Request, id: str = SOFTWARE_ID, caller: Caller = Depends(require("software.distributions"))
) -> Any:
    view = org(request, caller)
    return collection_answer(request, "Distributions", view.distributions(*_product(view, id)))


@router.get(
    "/api/Software/{id}/getmissingkbs",
    operation_id="software_missing_kbs",
    summary="Security updates missing for a product",
)
def software_missing_kbs(
    request: Request, id: str = SOFTWARE_ID, caller: Caller = Depends(require("software.missing_kbs"))
) -> Any:
    view = org(request, caller)
    vendor, name = _product(view, id)
    versions = [(vendor, name, v) for v in view.products[(vendor, name)]]
    return collection_answer(request, _MISSING_KBS, view.missing_kbs(versions))


@router.get(
    "/api/machines/{id}/software",
    operation_id="software_by_machine",
    summary="Software installed on a machine",
)
def machine_software(
    request: Request, id: str = Path(), caller: Caller = Depends(require("software.by_machine"))
) -> Any:
    view, _, installs = machine_view(request, caller, id)
    return collection_answer(request, "Software", [view.software(v, n) for v, n, _, _ in installs])


@router.get(
    "/api/machines/{id}/getmissingkbs",
    operation_id="software_missing_kbs_by_machine",
    summary="Security updates a machine is missing",
)
def machine_missing_kbs(
    request: Request, id: str = Path(), caller: Caller = Depends(require("software.missing_kbs_by_machine"))
) -> Any:
    view, _, installs = machine_view(request, caller, id)
    return collection_answer(
        request, _MISSING_KBS, view.missing_kbs((v, n, ver) for v, n, ver, _ in installs)
    )
