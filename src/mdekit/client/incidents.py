"""Incidents (Defender XDR ``/api/incidents``, Graph ``security/incidents``) and Graph alerts (alerts_v2).

The same incidents and alerts through two APIs (service-facts-2 §3): XDR answers PascalCase
values and numeric ids, Graph camelCase values and string ids. Each family names its catalogue
operations, which pick the host and token audience (Microsoft Threat Protection or Microsoft
Graph) and the roles checked before sending. Graph lists page with ``@odata.nextLink``
(``$skiptoken``); lists ask for at most the operation's ``max_top`` per page.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mdekit.catalog import operation
from mdekit.client.base import C, Family, ListCall, endpoint, listing, make_list, values
from mdekit.client.core import Call, make_call
from mdekit.client.odata import Names, TimeLike, and_, eq, ge
from mdekit.models import GraphAlert, GraphAlertComment, GraphIncident, Incident

__all__ = ["GraphAlerts", "GraphIncidents", "Incidents"]


def _page(name: str, page_size: int | None, limit: int | None) -> int | None:
    """The page size to ask for: as given, else *limit* capped at the operation's ``$top`` maximum."""
    if page_size is not None or limit is None:
        return page_size
    top = operation(name).max_top
    return max(1, min(limit, top)) if top else None


def _listed(
    name: str,
    model: Any,
    flt: str | None,
    page_size: int | None,
    limit: int | None,
    select: Names | None = None,
    order_by: Names | None = None,
    **params: str | None,
) -> ListCall[Any]:
    return make_list(
        name,
        model,
        {"$filter": flt, **params},
        page_size=_page(name, page_size, limit),
        limit=limit,
        select=select,
        order_by=order_by,
    )


def _changes(**fields: Any) -> dict[str, Any]:
    """The fields given (``None`` = leave as is), under their wire names."""
    return {k: v for k, v in fields.items() if v is not None}


# -- Defender XDR -------------------------------------------------------------------------------


def _xdr_list(
    *,
    since: TimeLike | None = None,
    updated_since: TimeLike | None = None,
    status: str | Sequence[str] | None = None,
    assigned_to: str | None = None,
    filter: str | None = None,
    select: Names | None = None,
    order_by: Names | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> ListCall[Incident]:
    """List incidents, most recent first: ``since`` (created), ``updated_since``, ``status``
    (Active, InProgress, Resolved, Redirected; one or several), ``assigned_to``, a raw ``filter``.
    """
    flt = and_(
        [
            ge("createdTime", since),
            ge("lastUpdateTime", updated_since),
            eq("status", status),
            eq("assignedTo", assigned_to),
            f"({filter})" if filter else None,
        ]
    )
    return _listed("incidents.list", Incident, flt, page_size, limit, select, order_by)


def _xdr_get(incident_id: int | str) -> Call[Incident]:
    """One incident with its alerts."""
    return make_call("incidents.get", Incident.model_validate, id=str(incident_id))


def _xdr_update(
    incident_id: int | str,
    *,
    status: str | None = None,
    assigned_to: str | None = None,
    classification: str | None = None,
    determination: str | None = None,
    tags: Sequence[str] | None = None,
    comment: str | None = None,
) -> Call[Incident]:
    """Update an incident (``tags`` replaces its tags; ``comment`` adds one); returns it updated."""
    body = _changes(
        status=status,
        assignedTo=assigned_to,
        classification=classification,
        determination=determination,
        tags=list(tags) if tags is not None else None,
        comment=comment,
    )
    return make_call("incidents.update", Incident.model_validate, body=body, id=str(incident_id))


class Incidents(Family[C]):
    """``client.incidents``: Defender XDR incidents (Microsoft Threat Protection, Incident.* roles)."""

    list = listing(_xdr_list)
    get = endpoint(_xdr_get)
    update = endpoint(_xdr_update)


# -- Microsoft Graph: security/incidents --------------------------------------------------------


def _graph_filter(
    created: str,
    since: TimeLike | None,
    updated_since: TimeLike | None,
    status: str | Sequence[str] | None,
    severity: str | Sequence[str] | None,
    assigned_to: str | None,
    filter: str | None,
) -> str | None:
    return and_(
        [
            ge(created, since),
            ge("lastUpdateDateTime", updated_since),
            eq("status", status),
            eq("severity", severity),
            eq("assignedTo", assigned_to),
            f"({filter})" if filter else None,
        ]
    )


def _gi_list(
    *,
    since: TimeLike | None = None,
    updated_since: TimeLike | None = None,
    status: str | Sequence[str] | None = None,
    severity: str | Sequence[str] | None = None,
    assigned_to: str | None = None,
    alerts: bool = False,
    filter: str | None = None,
    select: Names | None = None,
    order_by: Names | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> ListCall[GraphIncident]:
    """List Graph incidents, most recent first (Graph values: ``status="active"``, ``severity="high"``);
    ``alerts=True`` expands each incident's alerts.
    """
    flt = _graph_filter("createdDateTime", since, updated_since, status, severity, assigned_to, filter)
    expand = "alerts" if alerts else None
    return _listed(
        "graph_incidents.list", GraphIncident, flt, page_size, limit, select, order_by, **{"$expand": expand}
    )


def _gi_get(incident_id: int | str, *, alerts: bool = False) -> Call[GraphIncident]:
    """One Graph incident (``alerts=True``: with its alerts)."""
    params = {"$expand": "alerts"} if alerts else None
    return make_call("graph_incidents.get", GraphIncident.model_validate, params=params, id=str(incident_id))


def _gi_update(
    incident_id: int | str,
    *,
    status: str | None = None,
    assigned_to: str | None = None,
    classification: str | None = None,
    determination: str | None = None,
    custom_tags: Sequence[str] | None = None,
) -> Call[GraphIncident]:
    """Update a Graph incident (``custom_tags`` replaces its tags); returns it updated."""
    body = _changes(
        status=status,
        assignedTo=assigned_to,
        classification=classification,
        determination=determination,
        customTags=list(custom_tags) if custom_tags is not None else None,
    )
    return make_call("graph_incidents.update", GraphIncident.model_validate, body=body, id=str(incident_id))


def _gi_comment(incident_id: int | str, comment: str) -> Call[list[GraphAlertComment]]:
    """Add a comment to a Graph incident; returns all its comments."""
    return make_call(
        "graph_incidents.comment", values(GraphAlertComment), body={"comment": comment}, id=str(incident_id)
    )


class GraphIncidents(Family[C]):
    """``client.graph_incidents``: Microsoft Graph ``security/incidents`` (SecurityIncident.* roles)."""

    list = listing(_gi_list)
    get = endpoint(_gi_get)
    update = endpoint(_gi_update)
    comment = endpoint(_gi_comment)


# -- Microsoft Graph: security/alerts_v2 --------------------------------------------------------


def _ga_list(
    *,
    since: TimeLike | None = None,
    updated_since: TimeLike | None = None,
    status: str | Sequence[str] | None = None,
    severity: str | Sequence[str] | None = None,
    assigned_to: str | None = None,
    filter: str | None = None,
    select: Names | None = None,
    order_by: Names | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> ListCall[GraphAlert]:
    """List Graph alerts (alerts_v2), most recent first, with their evidence (Graph values)."""
    flt = _graph_filter("createdDateTime", since, updated_since, status, severity, assigned_to, filter)
    return _listed("graph_alerts.list", GraphAlert, flt, page_size, limit, select, order_by)


def _ga_get(alert_id: str) -> Call[GraphAlert]:
    """One Graph alert with its evidence (typed by ``@odata.type``)."""
    return make_call("graph_alerts.get", GraphAlert.model_validate, id=alert_id)


def _ga_update(
    alert_id: str,
    *,
    status: str | None = None,
    assigned_to: str | None = None,
    classification: str | None = None,
    determination: str | None = None,
) -> Call[GraphAlert]:
    """Update a Graph alert; returns it updated."""
    body = _changes(
        status=status, assignedTo=assigned_to, classification=classification, determination=determination
    )
    return make_call("graph_alerts.update", GraphAlert.model_validate, body=body, id=alert_id)


def _ga_comment(alert_id: str, comment: str) -> Call[list[GraphAlertComment]]:
    """Add a comment to a Graph alert; returns all its comments."""
    return make_call(
        "graph_alerts.comment", values(GraphAlertComment), body={"comment": comment}, id=alert_id
    )


class GraphAlerts(Family[C]):
    """``client.graph_alerts``: Microsoft Graph ``security/alerts_v2`` (SecurityAlert.* roles)."""

    list = listing(_ga_list)
    get = endpoint(_ga_get)
    update = endpoint(_ga_update)
    comment = endpoint(_ga_comment)
