"""Microsoft Graph ``/v1.0/security/incidents`` and ``/v1.0/security/alerts_v2`` over the MDE alerts.

List, get, update and comment, as security-list-incidents, security-incident-update,
security-incident-post-comments, security-list-alerts_v2, security-alert-update and
security-alert-post-comments describe them (service-facts-2 §3.2). Lists are most recent first;
``$filter`` takes the documented properties with Graph's (camelCase) values; ``$orderby`` on the
date properties and ``severity`` is accepted though not documented (UNVERIFIED).
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, Depends, Path, Request

from mdekit.catalog import operation
from mdekit.emulator.defender.auth import Caller
from mdekit.emulator.defender.odata import Field
from mdekit.emulator.defender.store import DefenderStore
from mdekit.emulator.graph import (
    GRAPH_ERRORS,
    Collection,
    GraphResponse,
    GraphRoute,
    Writable,
    bad_request,
    body_schema,
    check_body,
    collection_answer,
    context_url,
    entity_options,
    list_options,
    not_found,
    parse_query,
    project,
    read_json,
    require_graph,
)
from mdekit.emulator.incidents.views import graph_alert, graph_comment, graph_incident
from mdekit.emulator.incidents.vocab import SEVERITY_ORDER, VocabularyError, from_graph, graph_case_sql
from mdekit.enums import (
    GRAPH_ALERT_STATUSES,
    GRAPH_CLASSIFICATIONS,
    GRAPH_DETERMINATIONS,
    GRAPH_INCIDENT_STATUSES,
    GRAPH_SERVICE_SOURCES,
    GRAPH_SEVERITIES,
    INCIDENT_DETERMINATIONS,
)

__all__ = ["ALERTS", "INCIDENTS", "router"]

router = APIRouter(route_class=GraphRoute, tags=["Security (Microsoft Graph)"], responses=GRAPH_ERRORS)

_RANK = "(CASE severity " + " ".join(f"WHEN '{s}' THEN {i}" for i, s in enumerate(SEVERITY_ORDER)) + " END)"
_INCIDENT_PROPS = (
    "id", "incidentWebUrl", "redirectIncidentId", "tenantId", "displayName", "createdDateTime",
    "lastUpdateDateTime", "assignedTo", "classification", "determination", "status", "severity",
    "customTags", "comments", "systemTags", "description",
)  # fmt: skip
_ALERT_PROPS = (
    "id", "providerAlertId", "incidentId", "status", "severity", "classification", "determination",
    "serviceSource", "detectionSource", "detectorId", "tenantId", "title", "description",
    "recommendedActions", "category", "assignedTo", "alertWebUrl", "incidentWebUrl", "actorDisplayName",
    "threatDisplayName", "threatFamilyName", "mitreTechniques", "createdDateTime", "lastUpdateDateTime",
    "resolvedDateTime", "firstActivityDateTime", "lastActivityDateTime", "comments", "evidence", "systemTags",
)  # fmt: skip


def _enum(column: str, kind: str, values: tuple[str, ...]) -> Field:
    return Field(graph_case_sql(column, kind), "enum", values)


INCIDENTS = Collection(
    name="security/incidents",
    type_name="microsoft.graph.security.incident",
    fields={
        "assignedTo": Field("assigned_to"),
        "classification": _enum("classification", "classification", GRAPH_CLASSIFICATIONS),
        "createdDateTime": Field("created_time", "datetime"),
        "determination": _enum("determination", "determination", GRAPH_DETERMINATIONS),
        "lastUpdateDateTime": Field("last_update_time", "datetime"),
        "severity": _enum("severity", "severity", GRAPH_SEVERITIES),
        "status": _enum("status", "status", GRAPH_INCIDENT_STATUSES),
    },
    order={"createdDateTime": "created_time", "lastUpdateDateTime": "last_update_time", "severity": _RANK},
    default_order="created_time DESC",
    tiebreak="id DESC",
    max_top=operation("graph_incidents.list").max_top or 50,
    page_size=operation("graph_incidents.list").max_top or 50,
    expand=("alerts",),
    properties=_INCIDENT_PROPS,
)
_CLASSIFICATION = "json_extract(alert_json(data), '$.classification')"
_DETERMINATION = "json_extract(alert_json(data), '$.determination')"
ALERTS = Collection(
    name="security/alerts_v2",
    type_name="microsoft.graph.security.alert",
    fields={
        "assignedTo": Field("assigned_to"),
        "classification": _enum(_CLASSIFICATION, "classification", GRAPH_CLASSIFICATIONS),
        "determination": _enum(_DETERMINATION, "determination", GRAPH_DETERMINATIONS),
        "createdDateTime": Field("alert_creation_time", "datetime"),
        "lastUpdateDateTime": Field("last_update_time", "datetime"),
        "severity": _enum("severity", "severity", GRAPH_SEVERITIES),
        "serviceSource": Field("'microsoftDefenderForEndpoint'", "enum", GRAPH_SERVICE_SOURCES),
        "status": _enum("status", "status", GRAPH_ALERT_STATUSES),
    },
    order={
        "createdDateTime": "alert_creation_time",
        "lastUpdateDateTime": "last_update_time",
        "severity": _RANK,
    },
    default_order="alert_creation_time DESC",
    tiebreak="n DESC",
    max_top=operation("graph_alerts.list").max_top or 2000,
    page_size=operation("graph_alerts.list").max_top or 2000,
    properties=_ALERT_PROPS,
)
ID = Path(description="Incident or alert id")
_LIST = [Depends(list_options)]
_ENTITY = [Depends(entity_options)]
_ID = re.compile(r"[0-9]{1,18}")
#: Longest comment (the portal's limit, manage-incidents; the API's is UNVERIFIED).
MAX_COMMENT = 30_000


def _defender(request: Request) -> DefenderStore:
    defender: DefenderStore = request.app.state.emu.defender
    return defender


def _graph_alerts(request: Request, tenant: str, alerts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    machines = _defender(request).incidents.machines(tenant, (a["machineId"] for a in alerts))
    return [graph_alert(a, machines.get((a["machineId"] or "").lower()), tenant) for a in alerts]


def _graph_incidents(
    request: Request, tenant: str, incidents: list[dict[str, Any]], expand: bool
) -> list[dict[str, Any]]:
    if not expand:
        return [graph_incident(i, tenant) for i in incidents]
    alerts = _defender(request).incidents.alerts_of(tenant, [i["id"] for i in incidents])
    return [graph_incident(i, tenant, _graph_alerts(request, tenant, alerts[i["id"]])) for i in incidents]


def _incident(request: Request, caller: Caller, incident_id: str) -> dict[str, Any]:
    store = _defender(request).incidents
    found = store.get(caller.tenant_id, int(incident_id)) if _ID.fullmatch(incident_id) else None
    if found is None:
        raise not_found(f"Incident {incident_id} was not found.")
    return found


def _alert(request: Request, caller: Caller, alert_id: str) -> dict[str, Any]:
    found = _defender(request).alerts.get(caller.tenant_id, alert_id, with_evidence=True)
    if found is None:
        raise not_found(f"Alert {alert_id} was not found.")
    return found


def _change_alert(request: Request, caller: Caller, alert_id: str, changes: dict[str, Any]) -> dict[str, Any]:
    """Apply *changes* to the alert as every API does (:meth:`AlertStore.apply`) and save it."""
    alert = _alert(request, caller, alert_id)
    alerts = _defender(request).alerts
    alerts.apply(alert, changes, caller.display_name)
    alerts.save(caller.tenant_id, alert)
    return alert


def _entity(request: Request, fragment: str, item: dict[str, Any]) -> GraphResponse:
    return GraphResponse({"@odata.context": context_url(request, f"{fragment}/$entity"), **item})


def _vocab(
    kind: str, allowed: tuple[str, ...], documented: tuple[str, ...], refuse: dict[str, str] | None = None
) -> Writable:
    """A Graph enum property: any letter case in, the stored (PascalCase) value out."""

    def convert(value: str) -> str | None:
        reason = (refuse or {}).get(value.lower())
        if reason:
            raise ValueError(reason)
        try:
            return from_graph(kind, value, allowed)
        except VocabularyError as exc:
            raise ValueError(str(exc)) from None

    return Writable(convert=convert, values=documented)


_CLASSES = ("TruePositive", "InformationalExpectedActivity", "FalsePositive")
_CLASSIFICATION_VALUES = GRAPH_CLASSIFICATIONS[:4]
_DETERMINATION_VALUES = tuple(
    d for d in GRAPH_DETERMINATIONS if d not in ("apt", "securityPersonnel", "unknownFutureValue")
)
_INCIDENT_UPDATE = {
    "assignedTo": Writable(),
    "classification": _vocab("classification", _CLASSES, _CLASSIFICATION_VALUES),
    "determination": _vocab("determination", INCIDENT_DETERMINATIONS[1:], _DETERMINATION_VALUES),
    # "redirected" is in the update page's list, but only merging redirects an incident (UNVERIFIED).
    "status": _vocab(
        "status",
        ("Active", "InProgress", "Resolved"),
        ("active", "inProgress", "resolved"),
        {"redirected": "an incident is redirected only by merging it into another incident"},
    ),
    "customTags": Writable("strings", nullable=False),
}
_ALERT_UPDATE = {
    "assignedTo": Writable(),
    "classification": _vocab("classification", _CLASSES, _CLASSIFICATION_VALUES),
    "determination": _vocab("determination", INCIDENT_DETERMINATIONS[1:], _DETERMINATION_VALUES),
    "status": _vocab("status", ("New", "InProgress", "Resolved"), ("new", "inProgress", "resolved")),
}
_COMMENT = {"comment": Writable(nullable=False, required=True)}


async def _comment_text(request: Request) -> str:
    body = check_body(await read_json(request), "microsoft.graph.security.alertComment", _COMMENT)
    text = body.get("comment")
    if not text or not str(text).strip():
        raise bad_request("The property 'comment' is required.")
    if len(text) > MAX_COMMENT:
        raise bad_request(f"The comment is longer than {MAX_COMMENT} characters.")
    return str(text)


def _comments(request: Request, fragment: str, comments: list[dict[str, Any]]) -> GraphResponse:
    """``200`` with every comment of the incident or alert (the documented answer of a comment POST)."""
    body = {"@odata.context": context_url(request, fragment), "value": [graph_comment(c) for c in comments]}
    return GraphResponse(body)


# -- incidents -----------------------------------------------------------------------------------


@router.get(
    "/v1.0/security/incidents",
    operation_id="graph_incidents_list",
    summary="List incidents (Graph)",
    dependencies=_LIST,
)
def list_incidents(request: Request, caller: Caller = Depends(require_graph("graph_incidents.list"))) -> Any:
    q = parse_query(request.query_params, INCIDENTS)
    incidents = _defender(request).incidents
    found, more = incidents.page(caller.tenant_id, q.where, q.params, q.order_sql, q.offset, q.limit)
    total = incidents.count(caller.tenant_id, q.where, q.params) if q.count else None
    items = _graph_incidents(request, caller.tenant_id, found, "alerts" in q.expand)
    fragment = "security/incidents(alerts())" if "alerts" in q.expand else "security/incidents"
    return collection_answer(request, fragment, items, q, more=more, total=total)


@router.get(
    "/v1.0/security/incidents/{id}",
    operation_id="graph_incidents_get",
    summary="Get an incident (Graph)",
    dependencies=_ENTITY,
)
def get_incident(
    request: Request, id: str = ID, caller: Caller = Depends(require_graph("graph_incidents.get"))
) -> Any:
    q = parse_query(request.query_params, INCIDENTS)
    item = _graph_incidents(
        request, caller.tenant_id, [_incident(request, caller, id)], "alerts" in q.expand
    )[0]
    return _entity(request, "security/incidents", project(item, q.select))


@router.patch(
    "/v1.0/security/incidents/{id}",
    operation_id="graph_incidents_update",
    summary="Update an incident (Graph)",
    openapi_extra=body_schema(_INCIDENT_UPDATE),
)
async def update_incident(
    request: Request, id: str = ID, caller: Caller = Depends(require_graph("graph_incidents.update"))
) -> Any:
    body = check_body(await read_json(request), INCIDENTS.type_name, _INCIDENT_UPDATE, _INCIDENT_PROPS)
    incident = _incident(request, caller, id)
    if "customTags" in body:
        body["tags"] = body.pop("customTags")
    saved = _defender(request).incidents.update(caller.tenant_id, incident, body, caller.display_name)
    return _entity(request, "security/incidents", graph_incident(saved, caller.tenant_id))


@router.post(
    "/v1.0/security/incidents/{id}/comments",
    operation_id="graph_incidents_comment",
    summary="Comment on an incident (Graph)",
    openapi_extra=body_schema(_COMMENT),
)
async def comment_incident(
    request: Request, id: str = ID, caller: Caller = Depends(require_graph("graph_incidents.comment"))
) -> Any:
    text = await _comment_text(request)
    incident = _incident(request, caller, id)
    saved = _defender(request).incidents.comment(caller.tenant_id, incident, text, caller.display_name)
    return _comments(request, f"security/incidents('{id}')/comments", saved["comments"])


# -- alerts_v2 -----------------------------------------------------------------------------------


@router.get(
    "/v1.0/security/alerts_v2",
    operation_id="graph_alerts_list",
    summary="List alerts (Graph alerts_v2)",
    dependencies=_LIST,
)
def list_alerts(request: Request, caller: Caller = Depends(require_graph("graph_alerts.list"))) -> Any:
    q = parse_query(request.query_params, ALERTS)
    incidents = _defender(request).incidents
    found, more = incidents.alert_page(caller.tenant_id, q.where, q.params, q.order_sql, q.offset, q.limit)
    total = incidents.count(caller.tenant_id, q.where, q.params, table="def_alerts") if q.count else None
    items = _graph_alerts(request, caller.tenant_id, found)
    return collection_answer(request, "security/alerts_v2", items, q, more=more, total=total)


@router.get(
    "/v1.0/security/alerts_v2/{id}",
    operation_id="graph_alerts_get",
    summary="Get an alert (Graph alerts_v2)",
    dependencies=_ENTITY,
)
def get_alert(
    request: Request, id: str = ID, caller: Caller = Depends(require_graph("graph_alerts.get"))
) -> Any:
    q = parse_query(request.query_params, ALERTS)
    item = _graph_alerts(request, caller.tenant_id, [_alert(request, caller, id)])[0]
    return _entity(request, "security/alerts_v2", project(item, q.select))


@router.patch(
    "/v1.0/security/alerts_v2/{id}",
    operation_id="graph_alerts_update",
    summary="Update an alert (Graph alerts_v2)",
    openapi_extra=body_schema(_ALERT_UPDATE),
)
async def update_alert(
    request: Request, id: str = ID, caller: Caller = Depends(require_graph("graph_alerts.update"))
) -> Any:
    body = check_body(await read_json(request), ALERTS.type_name, _ALERT_UPDATE, _ALERT_PROPS)
    alert = _change_alert(request, caller, id, body)
    return _entity(request, "security/alerts_v2", _graph_alerts(request, caller.tenant_id, [alert])[0])


@router.post(
    "/v1.0/security/alerts_v2/{id}/comments",
    operation_id="graph_alerts_comment",
    summary="Comment on an alert (Graph alerts_v2)",
    openapi_extra=body_schema(_COMMENT),
)
async def comment_alert(
    request: Request, id: str = ID, caller: Caller = Depends(require_graph("graph_alerts.comment"))
) -> Any:
    alert = _change_alert(request, caller, id, {"comment": await _comment_text(request)})
    return _comments(request, f"security/alerts_v2('{id}')/comments", alert["comments"])
