"""Incidents through Microsoft Graph (``security/incidents``) or Defender XDR (``/api/incidents``).

``client.incidents`` is one family over both APIs; ``api=`` picks one per call:

=========  ===========================================  ==========================  =====================
``api``    endpoint                                     resource (token audience)   model
=========  ===========================================  ==========================  =====================
``graph``  ``graph.microsoft.com/v1.0/security/         Microsoft Graph             :class:`GraphIncident`
           incidents`` (the default)                    (SecurityIncident.*)
``xdr``    ``api.security.microsoft.com/api/incidents`` Microsoft Threat Protection :class:`Incident`
                                                        (Incident.*)
=========  ===========================================  ==========================  =====================

The default is a fixed, documented one - Graph, the API Microsoft points every XDR API page to -
not a guess from the token's roles: the model a call returns (and so the code reading it) must not
change the day an administrator grants one more permission. Without the Graph permission the call
fails before sending with :class:`~mdekit.errors.PermissionMissingError`, which names it; pass
``api="xdr"`` to use Incident.Read.All instead.

The same incidents through both (service-facts-2 §3): XDR answers PascalCase values and numeric
ids (``incident_id``), Graph camelCase values and string ids (``id``); values are sent as given, in
the chosen API's spelling (``status="Resolved"`` for XDR, ``"resolved"`` for Graph). Each
operation's catalogue entry picks host, token audience and the roles checked before sending; lists
ask for at most the operation's ``$top`` maximum per page and follow ``@odata.nextLink``.
Graph alerts (``security/alerts_v2``) are ``client.alerts.list(api="graph")``; their builders live
here too, next to the Graph incident ones they share helpers with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, cast

from mdekit.catalog import operation
from mdekit.client.apis import endpoint_or, listing_or, procedure_or
from mdekit.client.base import C, Family, ListCall, endpoint, make_list, values
from mdekit.client.core import Call, make_call
from mdekit.client.flow import Flow, call_flow
from mdekit.client.odata import Names, TimeLike, and_, eq, ge
from mdekit.errors import ConfigurationError
from mdekit.models import (
    GraphAlert,
    GraphAlertComment,
    GraphIncident,
    Incident,
    IncidentComment,
)

__all__ = ["INCIDENT_APIS", "AnyIncident", "Incidents", "pick_api", "refuse_options"]

#: The APIs serving incidents; the first is the default.
INCIDENT_APIS = ("graph", "xdr")
#: What ``client.incidents`` returns: a Graph incident or an XDR one, as ``api=`` asked.
AnyIncident: TypeAlias = GraphIncident | Incident


def pick_api(api: str, supported: Sequence[str], family: str) -> str:
    """*api* checked against the APIs *family* supports (a clear error for any other)."""
    if api in supported:
        return api
    hint = " (Defender XDR serves alerts inside incidents: client.incidents)" if family == "alerts" else ""
    raise ConfigurationError(
        f"client.{family} has no api={api!r}; choose " + " or ".join(f"api={a!r}" for a in supported) + hint
    )


def refuse_options(api: str, serves: str, **given: Any) -> None:
    """Refuse options another API serves: each of *given* that is set needs ``api=serves``."""
    used = [name for name, value in given.items() if value not in (None, False)]
    if used and api != serves:
        raise ConfigurationError(f"{', '.join(n + '=' for n in used)} needs api={serves!r} (not {api!r})")


def _page(name: str, page_size: int | None, limit: int | None) -> int | None:
    """The page size to ask for: as given, else *limit* capped at the operation's ``$top`` maximum."""
    if page_size is not None or limit is None:
        return page_size
    top = operation(name).max_top
    return max(1, min(limit, top)) if top else None


def listed(
    name: str,
    model: Any,
    flt: str | None,
    page_size: int | None,
    limit: int | None,
    select: Names | None = None,
    order_by: Names | None = None,
    **params: str | None,
) -> ListCall[Any]:
    """A list call of catalogue operation *name* with an OData ``$filter``, paged up to its ``$top``."""
    return make_list(
        name,
        model,
        {"$filter": flt, **params},
        page_size=_page(name, page_size, limit),
        limit=limit,
        select=select,
        order_by=order_by,
    )


def changes(**fields: Any) -> dict[str, Any]:
    """The fields given (``None`` = leave as is), under their wire names."""
    return {k: v for k, v in fields.items() if v is not None}


def graph_filter(
    since: TimeLike | None,
    updated_since: TimeLike | None,
    status: str | Sequence[str] | None,
    severity: str | Sequence[str] | None,
    assigned_to: str | None,
    filter: str | None,
) -> str | None:
    """The ``$filter`` of a Graph incidents or alerts_v2 listing (its documented properties)."""
    return and_(
        [
            ge("createdDateTime", since),
            ge("lastUpdateDateTime", updated_since),
            eq("status", status),
            eq("severity", severity),
            eq("assignedTo", assigned_to),
            f"({filter})" if filter else None,
        ]
    )


def patched(
    family: Family[Any], patch: Call[Any] | None, fetch: Call[Any], comment: Call[Any] | None
) -> Flow[Any]:
    """A Graph update: PATCH the changes (or GET the record when there are none), then POST the
    comment, which Graph takes on its own endpoint. Not atomic: a failed comment leaves the PATCH."""
    opts = family._client.options
    record = yield from call_flow(patch or fetch, opts)
    if comment is not None:
        comments = yield from call_flow(comment, opts)
        record = record.model_copy(update={"comments": comments})
    return record


# -- Microsoft Graph: security/incidents --------------------------------------------------------


def _gi_get(incident_id: int | str, *, alerts: bool = False) -> Call[GraphIncident]:
    params = {"$expand": "alerts"} if alerts else None
    return make_call("graph_incidents.get", GraphIncident.model_validate, params=params, id=str(incident_id))


def _gi_comment(incident_id: int | str, comment: str) -> Call[list[GraphAlertComment]]:
    return make_call(
        "graph_incidents.comment", values(GraphAlertComment), body={"comment": comment}, id=str(incident_id)
    )


# -- Microsoft Graph: security/alerts_v2 (client.alerts with api="graph") ------------------------


def graph_alert_list(
    flt: str | None,
    page_size: int | None,
    limit: int | None,
    select: Names | None = None,
    order_by: Names | None = None,
) -> ListCall[GraphAlert]:
    """Graph alerts (alerts_v2) matching *flt* (:func:`graph_filter`), most recent first, with evidence."""
    return listed("graph_alerts.list", GraphAlert, flt, page_size, limit, select, order_by)


def graph_alert_get(alert_id: str) -> Call[GraphAlert]:
    """One Graph alert with its evidence (typed by ``@odata.type``)."""
    return make_call("graph_alerts.get", GraphAlert.model_validate, id=alert_id)


def graph_alert_patch(alert_id: str, body: dict[str, Any]) -> Call[GraphAlert] | None:
    """The PATCH of a Graph alert's changes (``None`` when there are none)."""
    if not body:
        return None
    return make_call("graph_alerts.update", GraphAlert.model_validate, body=body, id=alert_id)


def graph_alert_comment(alert_id: str, comment: str) -> Call[list[GraphAlertComment]]:
    """Add a comment to a Graph alert; returns all its comments."""
    body = {"comment": comment}
    return make_call("graph_alerts.comment", values(GraphAlertComment), body=body, id=alert_id)


# -- the family -----------------------------------------------------------------------------------


def _list(
    *,
    api: str = "graph",
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
    """List incidents, most recent first (Graph by default; ``api="xdr"`` for Defender XDR).

    Filters, ANDed: ``since`` (created), ``updated_since`` (datetime, timedelta ago or ISO text),
    ``status`` (one value or several), ``assigned_to``, a raw OData ``filter``; Graph only:
    ``severity`` and ``alerts=True`` (expand each incident's alerts; XDR incidents always carry
    theirs). ``limit`` caps the items; pages are at most the API's ``$top`` (Graph 50, XDR 100).
    """
    which = pick_api(api, INCIDENT_APIS, "incidents")
    refuse_options(which, "graph", severity=severity, alerts=alerts)
    if which == "xdr":
        flt = and_(
            [
                ge("createdTime", since),
                ge("lastUpdateTime", updated_since),
                eq("status", status),
                eq("assignedTo", assigned_to),
                f"({filter})" if filter else None,
            ]
        )
        xdr = listed("incidents.list", Incident, flt, page_size, limit, select, order_by)
        return cast(ListCall[GraphIncident], xdr)  # Incident items: listing_or types them
    flt = graph_filter(since, updated_since, status, severity, assigned_to, filter)
    expand = "alerts" if alerts else None
    return listed(
        "graph_incidents.list", GraphIncident, flt, page_size, limit, select, order_by, **{"$expand": expand}
    )


def _get(incident_id: int | str, *, api: str = "graph", alerts: bool = False) -> Call[GraphIncident]:
    """One incident: Graph's (``alerts=True`` expands its alerts) or, with ``api="xdr"``, XDR's
    (always with its alerts)."""
    if pick_api(api, INCIDENT_APIS, "incidents") == "xdr":
        one = make_call("incidents.get", Incident.model_validate, id=str(incident_id))
        return cast(Call[GraphIncident], one)  # an Incident: endpoint_or types it
    return _gi_get(incident_id, alerts=alerts)


def _update(
    family: Family[Any],
    incident_id: int | str,
    *,
    api: str = "graph",
    status: str | None = None,
    assigned_to: str | None = None,
    classification: str | None = None,
    determination: str | None = None,
    tags: Sequence[str] | None = None,
    comment: str | None = None,
) -> Flow[GraphIncident]:
    """Update an incident; returns it updated. ``tags`` replaces its tags (Graph ``customTags``),
    ``comment`` adds one (XDR: in the same PATCH; Graph: a second request to its comments)."""
    which = pick_api(api, INCIDENT_APIS, "incidents")
    tag_list = list(tags) if tags is not None else None
    fields = changes(
        status=status, assignedTo=assigned_to, classification=classification, determination=determination
    )
    ident = str(incident_id)
    if which == "xdr":
        body = {**fields, **changes(tags=tag_list, comment=comment)}
        call: Call[Any] = make_call("incidents.update", Incident.model_validate, body=body, id=ident)
        return (yield from call_flow(call, family._client.options))  # an Incident: procedure_or types it
    body = {**fields, **changes(customTags=tag_list)}
    patch = None
    if body:
        patch = make_call("graph_incidents.update", GraphIncident.model_validate, body=body, id=ident)
    note = _gi_comment(ident, comment) if comment is not None else None
    return (yield from patched(family, patch, _gi_get(ident), note))


def _comment(
    incident_id: int | str, comment: str, *, api: str = "graph"
) -> Call[list[GraphAlertComment] | list[IncidentComment]]:
    """Add a comment to an incident; returns all its comments (XDR: through an update)."""
    which = pick_api(api, INCIDENT_APIS, "incidents")
    if not comment.strip():
        raise ConfigurationError("empty comment")
    if which == "graph":
        return cast(Call[Any], _gi_comment(incident_id, comment))
    return make_call(
        "incidents.update",
        lambda body: Incident.model_validate(body).comments,
        body={"comment": comment},
        id=str(incident_id),
    )


class Incidents(Family[C]):
    """``client.incidents``: Microsoft Graph ``security/incidents`` or, with ``api="xdr"``, Defender XDR
    ``/api/incidents`` - :class:`GraphIncident` or :class:`Incident` records."""

    list = listing_or(_list, "xdr", Incident)
    get = endpoint_or(_get, "xdr", Incident)
    update = procedure_or(_update, "xdr", Incident)
    comment = endpoint(_comment)
