"""Defender XDR ``/api/incidents``: list, get, update (api-list-incidents, api-update-incidents).

Served on the same front end as the MDE API (its envelope, its OData parser, its 401/403/429),
with Microsoft Threat Protection as the token audience and Incident.* roles; see
:mod:`mdekit.emulator.defender.auth`. Lists are most recent first, ``$top`` ≤ 100; a longer result
without ``$top`` gets ``@odata.nextLink`` with ``$skip`` like the MDE lists (UNVERIFIED for XDR).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import Depends, Path, Query, Request

from mdekit.catalog import operation
from mdekit.emulator.defender.auth import Caller, require
from mdekit.emulator.defender.listing import order_sql
from mdekit.emulator.defender.odata import Field
from mdekit.emulator.defender.routes.common import (
    COUNT,
    ERRORS,
    FILTER,
    ORDERBY,
    SELECT,
    SKIP,
    Prop,
    body_schema,
    count_route,
    list_answer,
    list_options,
    read_body,
    store,
)
from mdekit.emulator.defender.wire import ApiFailure, MdeRoute, entity, not_found
from mdekit.emulator.incidents.views import xdr_incident
from mdekit.emulator.incidents.vocab import DETERMINATION_ALIASES, canonical_determination
from mdekit.emulator.routing import PrefixRouter
from mdekit.enums import INCIDENT_DETERMINATIONS, INCIDENT_STATUSES

__all__ = ["XDR_FIELDS", "router"]

router = PrefixRouter(route_class=MdeRoute, tags=["Incidents (Defender XDR)"], responses=ERRORS)

#: ``$filter`` properties (api-list-incidents: lastUpdateTime, createdTime, status, assignedTo).
XDR_FIELDS = {
    "lastUpdateTime": Field("last_update_time", "datetime"),
    "createdTime": Field("created_time", "datetime"),
    "status": Field("status", "enum", INCIDENT_STATUSES),
    "assignedTo": Field("assigned_to"),
}
_ORDER = "created_time DESC, id DESC"  # "The most recent incidents are displayed at the top of the list."
_UPDATE = {
    "status": Prop(values=INCIDENT_STATUSES[:3]),
    "assignedTo": Prop(nullable=True),
    "classification": Prop(values=("TruePositive", "InformationalExpectedActivity", "FalsePositive")),
    "determination": Prop(values=(*INCIDENT_DETERMINATIONS[1:], *DETERMINATION_ALIASES)),
    "tags": Prop("array"),
    "comment": Prop(),
}
TOP = Query(None, alias="$top", description="Maximum incidents (≤ 100)")
_ID = re.compile(r"[0-9]{1,18}")  # a long
ID = Path(description="Incident id (a number)")


def _answer(request: Request, tenant: str, incidents: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The XDR shape of *incidents*, their alerts and devices read in two queries."""
    defender = store(request)
    alerts = defender.incidents.alerts_of(tenant, [i["id"] for i in incidents])
    machines = defender.incidents.machines(tenant, (a["machineId"] for v in alerts.values() for a in v))
    return [xdr_incident(i, alerts[i["id"]], machines) for i in incidents]


def _load(request: Request, caller: Caller, incident_id: str) -> dict[str, Any]:
    incidents = store(request).incidents
    found = incidents.get(caller.tenant_id, int(incident_id)) if _ID.fullmatch(incident_id) else None
    if found is None:
        raise not_found("Incident", incident_id)
    return found


@router.get("/api/incidents", operation_id="incidents_list", summary="List incidents (Defender XDR)")
def list_incidents(
    request: Request,
    caller: Caller = Depends(require("incidents.list")),
    f: str | None = FILTER,
    top: str | None = TOP,
    skip: str | None = SKIP,
    select: str | None = SELECT,
    orderby: str | None = ORDERBY,
    count: str | None = COUNT,
) -> Any:
    max_top = operation("incidents.list").max_top or 100
    query = list_options(request, XDR_FIELDS, "Incidents", max_top=max_top)
    incidents = store(request).incidents
    if query.count:  # $count=true and the /$count segment
        query.total = incidents.count(caller.tenant_id, query.where, query.params)
    if query.count_only:
        return list_answer(request, "Incidents", query, [], False)
    limit = query.top if query.top is not None else max_top
    order = order_sql(query, _ORDER) if query.order else _ORDER
    found, more = incidents.page(caller.tenant_id, query.where, query.params, order, query.skip, limit)
    items = _answer(request, caller.tenant_id, found)
    return list_answer(request, "Incidents", query, items, more and query.top is None)


count_route(router, list_incidents, "incidents.count")


@router.get("/api/incidents/{id}", operation_id="incidents_get", summary="Get an incident (Defender XDR)")
def get_incident(request: Request, id: str = ID, caller: Caller = Depends(require("incidents.get"))) -> Any:
    incident = _load(request, caller, id)
    return entity(request, "Incidents", _answer(request, caller.tenant_id, [incident])[0])


@router.patch(
    "/api/incidents/{id}",
    operation_id="incidents_update",
    summary="Update an incident (Defender XDR)",
    openapi_extra=body_schema(_UPDATE),
)
async def update_incident(
    request: Request, id: str = ID, caller: Caller = Depends(require("incidents.update"))
) -> Any:
    body = await read_body(request, _UPDATE)
    incident = _load(request, caller, id)
    if incident["status"] == "Redirected":
        raise ApiFailure(
            400, "InvalidInput", f"Incident {id} was merged into incident {incident['redirectIncidentId']}"
        )
    if "determination" in body:
        body["determination"] = canonical_determination(body["determination"])
    saved = store(request).incidents.update(caller.tenant_id, incident, body, caller.display_name)
    return entity(request, "Incidents", _answer(request, caller.tenant_id, [saved])[0])
