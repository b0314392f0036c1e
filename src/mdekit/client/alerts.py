"""Alerts: list with friendly filters, get, update, comment, batch update, related entities, evidence.

``client.alerts`` reads the Defender for Endpoint API (``/api/alerts``, :class:`Alert`) by default;
``list``, ``get``, ``update`` and ``comment`` also take ``api="graph"``: the same alerts through
Microsoft Graph ``security/alerts_v2`` (:class:`GraphAlert`, SecurityAlert.* roles, evidence typed
by ``@odata.type``). The other methods exist on the MDE API only. Values are sent in the chosen
API's spelling (``status="Resolved"`` for MDE, ``"resolved"`` for Graph).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeAlias, cast

from mdekit.client.apis import endpoint_or, listing_or, procedure_or
from mdekit.client.base import (
    C,
    Family,
    ListCall,
    endpoint,
    listing,
    make_list,
    raw_values,
    sub_list,
)
from mdekit.client.core import Call, make_call
from mdekit.client.flow import Flow, call_flow
from mdekit.client.incidents import (
    graph_alert_comment,
    graph_alert_get,
    graph_alert_list,
    graph_alert_patch,
    graph_filter,
    patched,
    pick_api,
    refuse_options,
)
from mdekit.client.odata import Names, TimeLike, and_, eq, ge
from mdekit.errors import ConfigurationError
from mdekit.models import Alert, AlertComment, Evidence, File, GraphAlert, GraphAlertComment, Machine, User

__all__ = ["ALERT_APIS", "Alerts", "AnyAlert"]

#: The APIs serving alerts; the first is the default.
ALERT_APIS = ("mde", "graph")
#: What ``client.alerts`` returns: an MDE alert or a Graph one (alerts_v2), as ``api=`` asked.
AnyAlert: TypeAlias = Alert | GraphAlert


def _list(
    *,
    api: str = "mde",
    since: TimeLike | None = None,
    updated_since: TimeLike | None = None,
    status: str | Sequence[str] | None = None,
    severity: str | Sequence[str] | None = None,
    assigned_to: str | None = None,
    incident_id: int | None = None,
    detection_source: str | None = None,
    category: str | None = None,
    filter: str | None = None,
    evidence: bool = False,
    select: Names | None = None,
    order_by: Names | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> ListCall[Alert]:
    """List alerts, newest filters ANDed: ``since``/``updated_since`` (datetime, timedelta ago or
    ISO text), ``status``/``severity`` (one value or several), ``assigned_to``, ``incident_id``,
    ``detection_source``, ``category``, a raw OData ``filter``; ``evidence=True`` expands evidence;
    ``select``/``order_by`` (``$select``/``$orderby``, e.g. ``order_by="alertCreationTime desc"``).
    ``api="graph"``: Graph alerts (alerts_v2, always with their evidence), without the MDE-only
    ``incident_id``, ``detection_source``, ``category`` and ``evidence`` options.
    """
    if pick_api(api, ALERT_APIS, "alerts") == "graph":
        refuse_options(
            "graph", "mde", incident_id=incident_id, detection_source=detection_source, category=category,
            evidence=evidence,
        )  # fmt: skip
        flt = graph_filter(since, updated_since, status, severity, assigned_to, filter)
        graph = graph_alert_list(flt, page_size, limit, select, order_by)
        return cast(ListCall[Alert], graph)  # listing_or types it
    flt = and_(
        [
            ge("alertCreationTime", since),
            ge("lastUpdateTime", updated_since),
            eq("status", status),
            eq("severity", severity),
            eq("assignedTo", assigned_to),
            eq("incidentId", incident_id),
            eq("detectionSource", detection_source),
            eq("category", category),
            f"({filter})" if filter else None,
        ]
    )
    params = {"$filter": flt, "$expand": "evidence" if evidence else None}
    return make_list(
        "alerts.list", Alert, params, page_size=page_size, limit=limit, select=select, order_by=order_by
    )


def _get(alert_id: str, *, api: str = "mde", evidence: bool = False) -> Call[Alert]:
    """One alert by id (``evidence=True`` expands its evidence; Graph alerts always carry theirs)."""
    if pick_api(api, ALERT_APIS, "alerts") == "graph":
        return cast(Call[Alert], graph_alert_get(alert_id))  # endpoint_or types it
    params = {"$expand": "evidence"} if evidence else None
    return make_call("alerts.get", Alert.model_validate, params=params, id=alert_id)


def _evidence(alert_id: str) -> Call[list[Evidence]]:
    """The evidence of one alert."""

    def parse(body: Any) -> list[Evidence]:
        return Alert.model_validate(body).evidence

    return make_call("alerts.get", parse, params={"$expand": "evidence"}, id=alert_id)


def _update_body(
    status: str | None,
    assigned_to: str | None,
    classification: str | None,
    determination: str | None,
    comment: str | None,
) -> dict[str, Any]:
    body = {
        "status": status,
        "assignedTo": assigned_to,
        "classification": classification,
        "determination": determination,
        "comment": comment,
    }
    return {k: v for k, v in body.items() if v is not None}


def _update(
    family: Family[Any],
    alert_id: str,
    *,
    api: str = "mde",
    status: str | None = None,
    assigned_to: str | None = None,
    classification: str | None = None,
    determination: str | None = None,
    comment: str | None = None,
) -> Flow[Alert]:
    """Update an alert's status, assignee, classification, determination or add a comment; returns
    it updated (Graph takes the comment on its own endpoint: a second request)."""
    body = _update_body(status, assigned_to, classification, determination, None)
    if pick_api(api, ALERT_APIS, "alerts") == "graph":
        note = graph_alert_comment(alert_id, comment) if comment is not None else None
        patch = graph_alert_patch(alert_id, body)
        return (yield from patched(family, patch, graph_alert_get(alert_id), note))
    body.update({"comment": comment} if comment is not None else {})
    call = make_call("alerts.update", Alert.model_validate, body=body, id=alert_id)
    return (yield from call_flow(call, family._client.options))


def _comment(
    alert_id: str, comment: str, *, api: str = "mde"
) -> Call[list[AlertComment] | list[GraphAlertComment]]:
    """Add a comment to an alert; returns all its comments."""
    if not comment.strip():
        raise ConfigurationError("empty comment")
    if pick_api(api, ALERT_APIS, "alerts") == "graph":
        return cast(Call[Any], graph_alert_comment(alert_id, comment))
    comments = lambda body: Alert.model_validate(body).comments  # noqa: E731  # the PATCH answers the alert
    return make_call("alerts.update", comments, body={"comment": comment}, id=alert_id)


def _batch_update(
    alert_ids: Sequence[str],
    *,
    status: str | None = None,
    assigned_to: str | None = None,
    classification: str | None = None,
    determination: str | None = None,
    comment: str | None = None,
) -> Call[None]:
    """Update many alerts at once (10 calls/min, 500/h)."""
    body = {
        "alertIds": list(alert_ids),
        **_update_body(status, assigned_to, classification, determination, comment),
    }
    return make_call("alerts.batch_update", lambda _: None, body=body)


def _ips(alert_id: str) -> Call[list[str]]:
    """IP addresses related to an alert."""
    return make_call("alerts.ips", lambda b: [str(i.get("id")) for i in raw_values(b)], id=alert_id)


def _domains(alert_id: str) -> Call[list[str]]:
    """Domains related to an alert."""
    return make_call("alerts.domains", lambda b: [str(i.get("host")) for i in raw_values(b)], id=alert_id)


def _machine(alert_id: str) -> Call[Machine]:
    """The machine an alert fired on."""
    return make_call("alerts.machine", Machine.model_validate, id=alert_id)


def _user(alert_id: str) -> Call[User]:
    """The user related to an alert."""
    return make_call("alerts.user", User.model_validate, id=alert_id)


class Alerts(Family[C]):
    """``client.alerts``: Defender for Endpoint alerts; ``list``/``get``/``update``/``comment`` also
    through Microsoft Graph (``api="graph"``: alerts_v2)."""

    list = listing_or(_list, "graph", GraphAlert)
    get = endpoint_or(_get, "graph", GraphAlert)
    evidence = endpoint(_evidence)
    update = procedure_or(_update, "graph", GraphAlert)
    comment = endpoint(_comment)
    batch_update = endpoint(_batch_update)
    files = listing(sub_list("alerts.files", File, "Files related to an alert."))
    ips = endpoint(_ips)
    domains = endpoint(_domains)
    machine = endpoint(_machine)
    user = endpoint(_user)
