"""Alerts: list with friendly filters, get, update, batch update, related entities, evidence."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from mdekit.client.base import C, Family, ListCall, endpoint, listing, make_list, raw_values, values
from mdekit.client.core import Call, make_call
from mdekit.client.odata import Names, TimeLike, and_, eq, ge
from mdekit.models import Alert, Evidence, File, Machine, User

__all__ = ["Alerts"]


def _list(
    *,
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
    """
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


def _get(alert_id: str, *, evidence: bool = False) -> Call[Alert]:
    """One alert by id (``evidence=True`` expands its evidence)."""
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
    alert_id: str,
    *,
    status: str | None = None,
    assigned_to: str | None = None,
    classification: str | None = None,
    determination: str | None = None,
    comment: str | None = None,
) -> Call[Alert]:
    """Update an alert's status, assignee, classification, determination or add a comment."""
    body = _update_body(status, assigned_to, classification, determination, comment)
    return make_call("alerts.update", Alert.model_validate, body=body, id=alert_id)


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


def _files(alert_id: str) -> Call[list[File]]:
    """Files related to an alert."""
    return make_call("alerts.files", values(File), id=alert_id)


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
    """``client.alerts``."""

    list = listing(_list)
    get = endpoint(_get)
    evidence = endpoint(_evidence)
    update = endpoint(_update)
    batch_update = endpoint(_batch_update)
    files = endpoint(_files)
    ips = endpoint(_ips)
    domains = endpoint(_domains)
    machine = endpoint(_machine)
    user = endpoint(_user)
