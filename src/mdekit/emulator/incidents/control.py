"""Control plane for incidents: group alerts into a new incident, move alerts, merge incidents.

Under ``/_emulator/tenants/{tenant}/incidents`` (loopback only, like the rest of the control plane):

* ``POST .../incidents`` ``{"alertIds": [...]}`` -> 201: a new incident holding those alerts;
* ``POST .../incidents/{id}/alerts`` ``{"alertIds": [...]}`` -> the alerts move into incident *id*;
* ``POST .../incidents/{id}/merge`` ``{"incidentIds": [...]}`` -> those incidents' alerts move into
  *id* and they become ``Redirected`` to it (as Defender's own correlation does).

An incident left without alerts is redirected to the one that took them. Answers:
``{"incidentId", "status", "severity", "alertIds", "redirected"}``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request

from mdekit.emulator.control.core import _json, emu
from mdekit.emulator.incidents.store import IncidentStore

__all__ = ["router"]

router = APIRouter()


def _tenant(request: Request, tenant: str) -> str:
    found = emu(request).directory.find_tenant(tenant)
    if found is None:
        raise HTTPException(404, f"tenant {tenant!r} is not in the directory")
    return found.id


async def _ask(request: Request, tenant: str, key: str, kind: type) -> tuple[str, list[Any], IncidentStore]:
    """The tenant's id, the body's list *key* of *kind*, and the incident store."""
    tid = _tenant(request, tenant)
    return tid, _ids(await _json(request), key, kind), emu(request).defender.incidents


def _ids(body: dict[str, Any], key: str, kind: type) -> list[Any]:
    values = body.get(key)
    if (
        not isinstance(values, list)
        or not values
        or not all(isinstance(v, kind) and not isinstance(v, bool) for v in values)
    ):
        raise HTTPException(
            400, f"{key} must be a non-empty list of {'strings' if kind is str else 'integers'}"
        )
    return values


def _incident(store: IncidentStore, tid: str, incident_id: int) -> dict[str, Any]:
    found = store.get(tid, incident_id)
    if found is None:
        raise HTTPException(404, f"incident {incident_id} not found in tenant {tid}")
    return found


def _summary(store: IncidentStore, tid: str, inc: dict[str, Any], redirected: list[int]) -> dict[str, Any]:
    alerts = store.alerts_of(tid, [inc["id"]])[inc["id"]]
    return {
        "incidentId": inc["id"],
        "status": inc["status"],
        "severity": inc["severity"],
        "alertIds": [a["id"] for a in alerts],
        "redirected": redirected,
    }


def _move(store: IncidentStore, tid: str, target: dict[str, Any], alert_ids: list[str]) -> dict[str, Any]:
    before = {a["incidentId"] for i in alert_ids if (a := store.alerts.get(tid, i)) is not None}
    try:
        saved = store.move_alerts(tid, target, alert_ids)
    except KeyError as exc:
        raise HTTPException(404, f"alert {exc.args[0]!r} not found in tenant {tid}") from None
    redirected = [
        i for i in sorted(before - {target["id"]}) if (store.get(tid, i) or {}).get("status") == "Redirected"
    ]
    return _summary(store, tid, saved, redirected)


@router.post("/tenants/{tenant}/incidents", status_code=201)
async def new_incident(request: Request, tenant: str) -> dict[str, Any]:
    """A new incident holding ``alertIds`` (moved out of their incidents)."""
    tid, alert_ids, store = await _ask(request, tenant, "alertIds", str)
    alerts = [store.alerts.get(tid, i) for i in alert_ids]
    if None in alerts:
        missing = alert_ids[alerts.index(None)]
        raise HTTPException(404, f"alert {missing!r} not found in tenant {tid}")
    with store.db.tx() as c:
        new_id = store.create(c, tid, [a for a in alerts if a is not None])
        return _move(store, tid, _incident(store, tid, new_id), alert_ids)


@router.post("/tenants/{tenant}/incidents/{incident_id}/alerts")
async def add_alerts(request: Request, tenant: str, incident_id: int) -> dict[str, Any]:
    """Move ``alertIds`` into the incident."""
    tid, alert_ids, store = await _ask(request, tenant, "alertIds", str)
    return _move(store, tid, _incident(store, tid, incident_id), alert_ids)


@router.post("/tenants/{tenant}/incidents/{incident_id}/merge")
async def merge(request: Request, tenant: str, incident_id: int) -> dict[str, Any]:
    """Merge ``incidentIds`` into the incident (they become ``Redirected`` to it)."""
    tid, sources, store = await _ask(request, tenant, "incidentIds", int)
    target = _incident(store, tid, incident_id)
    if incident_id in sources:
        raise HTTPException(400, "an incident cannot be merged into itself")
    for source in sources:
        _incident(store, tid, source)
    saved = store.merge(tid, target, list(dict.fromkeys(sources)))
    return _summary(store, tid, saved, sorted(set(sources)))
