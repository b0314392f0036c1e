"""``/api/recommendations``: what to update or reconfigure, with its software, machines and CVEs."""

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
    object_answer,
    org,
    references,
    tvm,
)
from mdekit.emulator.defender.tvm.assess import cves_for
from mdekit.emulator.defender.tvm.configs import CONFIGS
from mdekit.emulator.defender.tvm.entities import OrgView
from mdekit.emulator.defender.tvm.fields import RECOMMENDATION_FIELDS
from mdekit.emulator.defender.wire import MdeRoute, entity, not_found
from mdekit.emulator.routing import PrefixRouter

router = PrefixRouter(route_class=MdeRoute, tags=["Recommendations"], responses=ERRORS)

RECOMMENDATION_ID = Path(description="va-_-vendor-_-product or sca-_-scid-<n>")


def _recommendation(view: OrgView, rec_id: str) -> dict[str, Any]:
    found = view.recommendation(rec_id)
    if found is None:
        raise not_found("Recommendation", rec_id)
    return found


def _failing(view: OrgView, config_id: str) -> list[str]:
    """Machines where an applicable configuration is not compliant."""
    return [m for m, checks in view.assessments.items() if checks[config_id] == (True, False)]


def exposed_machines(view: OrgView, rec: dict[str, Any]) -> list[str]:
    """Ids of the machines a recommendation (or remediation of it) is about."""
    if rec["id"].startswith("sca-_-"):
        return _failing(view, rec["id"][len("sca-_-") :])
    return view.store.machines_with_product(view.tenant, rec["vendor"], rec["productName"], vulnerable=True)


@router.get(
    "/api/recommendations", operation_id="recommendations_list", summary="List security recommendations"
)
def list_recommendations(
    request: Request,
    caller: Caller = Depends(require("recommendations.list")),
    f: str | None = FILTER,
    top: str | None = TOP,
    skip: str | None = SKIP,
    select: str | None = SELECT,
    orderby: str | None = ORDERBY,
    count: str | None = COUNT,
) -> Any:
    items = org(request, caller).recommendations()
    return computed_list(request, "Recommendations", RECOMMENDATION_FIELDS, items)


count_route(router, list_recommendations, "recommendations.count")


@router.get(
    "/api/recommendations/{id}", operation_id="recommendations_get", summary="Get a security recommendation"
)
def get_recommendation(
    request: Request, id: str = RECOMMENDATION_ID, caller: Caller = Depends(require("recommendations.get"))
) -> Any:
    return entity(request, "Recommendations", _recommendation(org(request, caller), id))


@router.get(
    "/api/recommendations/{id}/software",
    operation_id="recommendations_software",
    summary="The software a recommendation is about (one object)",
)
def recommendation_software(
    request: Request,
    id: str = RECOMMENDATION_ID,
    caller: Caller = Depends(require("recommendations.software")),
) -> Any:
    view = org(request, caller)
    rec = _recommendation(view, id)
    if rec["id"].startswith("sca-_-"):  # UNVERIFIED: what the service answers for a configuration
        raise not_found("Software of recommendation", id)
    return object_answer(
        request,
        "Analytics.Contracts.PublicAPI.PublicProductDto",
        view.software(rec["vendor"], rec["productName"]),
    )


@router.get(
    "/api/recommendations/{id}/machineReferences",
    operation_id="recommendations_machine_references",
    summary="Machines a recommendation applies to",
)
def recommendation_machines(
    request: Request,
    id: str = RECOMMENDATION_ID,
    caller: Caller = Depends(require("recommendations.machine_references")),
) -> Any:
    view = org(request, caller)
    return references(request, caller, exposed_machines(view, _recommendation(view, id)))


@router.get(
    "/api/recommendations/{id}/vulnerabilities",
    operation_id="recommendations_vulnerabilities",
    summary="Vulnerabilities a recommendation fixes",
)
def recommendation_vulnerabilities(
    request: Request,
    id: str = RECOMMENDATION_ID,
    caller: Caller = Depends(require("recommendations.vulnerabilities")),
) -> Any:
    view = org(request, caller)
    rec = _recommendation(view, id)
    cves = [] if rec["id"].startswith("sca-_-") else view.product_cves(rec["vendor"], rec["productName"])
    return collection_answer(request, PUBLIC_VULNERABILITIES, view.dtos(cves))


@router.get(
    "/api/machines/{id}/recommendations",
    operation_id="recommendations_by_machine",
    summary="Security recommendations for a machine",
)
def machine_recommendations(
    request: Request, id: str = Path(), caller: Caller = Depends(require("recommendations.by_machine"))
) -> Any:
    view, machine_id, installs = machine_view(request, caller, id)
    # the products whose installed version on this machine has CVEs
    items = [view.software_recommendation(v, n) for v, n, ver, _ in installs if cves_for(v, n, ver)]
    checks = tvm(request).config_assessment(caller.tenant_id, machine_id).get(machine_id, {})
    items += [view.config_recommendation(c) for c in CONFIGS if checks.get(c.id) == (True, False)]
    return collection_answer(request, "Recommendations", items)
