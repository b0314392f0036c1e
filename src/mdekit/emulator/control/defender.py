"""Control plane for the Defender API: seeding, fault plans, action timing, throttling, machine state."""

from __future__ import annotations

import re
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from mdekit.emulator.control.core import _json, emu
from mdekit.emulator.defender.actions import OUTCOMES
from mdekit.emulator.defender.enums import ACTION_TYPES
from mdekit.emulator.defender.seed import seed_tenant

router = APIRouter()

__all__ = ["router"]

MAX_SEED = {"machines": 100_000, "alerts": 1_000_000}


def _tenant_id(request: Request, tenant: str) -> str:
    found = emu(request).directory.find_tenant(tenant)
    if found is None:
        raise HTTPException(
            404, f"tenant {tenant!r} is not in the directory (create it with POST /_emulator/tenants)"
        )
    return found.id


def _count(body: dict[str, Any], key: str, default: int, limit: int) -> int:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise HTTPException(400, f"{key} must be an integer from 0 to {limit}")
    return value


@router.post("/tenants/{tenant}/seed")
async def seed(request: Request, tenant: str) -> dict[str, Any]:
    """``{"machines", "alerts", "seed", "tvm"}`` -> what was created (replaces the tenant's Defender data).

    ``tvm`` (default true): also installed software, antivirus health and remediation activities.
    """
    body = await _json(request)
    tid = _tenant_id(request, tenant)
    machines = _count(body, "machines", 50, MAX_SEED["machines"])
    alerts = _count(body, "alerts", 200, MAX_SEED["alerts"])
    seed_value = _count(body, "seed", 0, 2**62)
    tvm = body.get("tvm", True)
    if not isinstance(tvm, bool):
        raise HTTPException(400, "tvm must be true or false")
    if alerts and not machines:
        raise HTTPException(400, "alerts need machines: give machines > 0")
    result = seed_tenant(
        emu(request).defender, tid, machines=machines, alerts=alerts, seed=seed_value, tvm=tvm
    )
    return {"tenantId": tid, **result.counts}


@router.get("/tenants/{tenant}/defender")
def defender_counts(request: Request, tenant: str) -> dict[str, Any]:
    """How many Defender records the tenant has."""
    tid = _tenant_id(request, tenant)
    return {"tenantId": tid, **emu(request).defender.counts(tid)}


@router.get("/tenants/{tenant}/machines/{machine_id}/state")
def machine_state(request: Request, tenant: str, machine_id: str) -> dict[str, Any]:
    """State the API does not show: ``{"isolation": "Full"|"Selective"|null, "restricted",
    "quarantinedFiles": [{"path", "sha1", "time"}]}``."""
    tid = _tenant_id(request, tenant)
    defender = emu(request).defender
    defender.actions.settle(tid)
    machine = defender.machines.get(tid, machine_id)
    found = defender.machines.state(tid, machine["id"]) if machine else None
    if found is None:
        raise HTTPException(404, f"machine {machine_id!r} not found in tenant {tid}")
    mid = machine["id"] if machine else machine_id
    return {"machineId": mid, **found, "quarantinedFiles": defender.files.quarantined(tid, mid)}


def _machine(request: Request, tid: str, machine_id: str) -> dict[str, Any]:
    defender = emu(request).defender
    machine = defender.machines.get(tid, machine_id)
    if machine is None:
        raise HTTPException(404, f"machine {machine_id!r} not found in tenant {tid}")
    return machine


def _installed(request: Request, tid: str, machine_id: str) -> list[dict[str, Any]]:
    from mdekit.emulator.defender.tvm.assess import cves_for

    return [
        {
            "vendor": v,
            "name": n,
            "version": ver,
            "firstSeen": seen,
            "cves": [c.id for c, _ in cves_for(v, n, ver)],
        }
        for v, n, ver, seen in emu(request).defender.tvm.installs_of(tid, machine_id)
    ]


_SOFTWARE_NAME = re.compile(r"^[a-z0-9][a-z0-9_.+\-]{0,99}$")


def _software_name(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not _SOFTWARE_NAME.match(value.lower()):
        raise HTTPException(400, f"{key} must be a TVM name: lowercase letters, digits, '.', '_', '+', '-'")
    return value.lower()


@router.get("/tenants/{tenant}/machines/{machine_id}/software")
def machine_software(request: Request, tenant: str, machine_id: str) -> dict[str, Any]:
    """The machine's installed software with the CVEs of each version."""
    tid = _tenant_id(request, tenant)
    machine = _machine(request, tid, machine_id)
    return {"machineId": machine["id"], "value": _installed(request, tid, machine["id"])}


@router.post("/tenants/{tenant}/machines/{machine_id}/software")
async def install_software(request: Request, tenant: str, machine_id: str) -> dict[str, Any]:
    """``{"vendor", "name", "version"}``: install (or change the version of) a product on a machine.

    Every TVM answer follows at once: vulnerabilities, machine references, recommendations,
    exports (a New/Fixed event for the delta export), hunting rows and the machine's exposure.
    """
    body = await _json(request)
    unknown = set(body) - {"vendor", "name", "version"}
    if unknown:
        raise HTTPException(400, f"unknown field(s): {', '.join(sorted(unknown))}")
    vendor, name = _software_name(body, "vendor"), _software_name(body, "name")
    version = body.get("version")
    if (
        not isinstance(version, str)
        or not version.strip()
        or len(version) > 64
        or any(c.isspace() for c in version)
    ):
        raise HTTPException(400, "version must be a non-empty string without spaces (at most 64 characters)")
    tid = _tenant_id(request, tenant)
    machine = _machine(request, tid, machine_id)
    emu(request).defender.tvm.install(tid, machine["id"], vendor, name, version)
    return {"machineId": machine["id"], "value": _installed(request, tid, machine["id"])}


@router.delete("/tenants/{tenant}/machines/{machine_id}/software/{vendor}/{name}", status_code=204)
def remove_software(request: Request, tenant: str, machine_id: str, vendor: str, name: str) -> Response:
    """Uninstall a product from a machine (404 if it is not installed)."""
    tid = _tenant_id(request, tenant)
    machine = _machine(request, tid, machine_id)
    if not emu(request).defender.tvm.uninstall(tid, machine["id"], vendor.lower(), name.lower()):
        raise HTTPException(404, f"{vendor}/{name} is not installed on machine {machine['id']}")
    return Response(status_code=204)


@router.post("/faults", status_code=201)
async def add_fault(request: Request) -> dict[str, Any]:
    """Add a fault plan (fields in :mod:`mdekit.emulator.faults`) -> ``{"id"}``."""
    body = await _json(request)
    try:
        plan = emu(request).faults.add(body)
    except ValueError as exc:
        raise HTTPException(400, str(exc)) from None
    return {"id": plan.id}


@router.get("/faults")
def list_faults(request: Request) -> dict[str, Any]:
    """Every fault plan with its counters."""
    return {"value": emu(request).faults.plans()}


@router.delete("/faults", status_code=204)
def clear_faults(request: Request) -> Response:
    """Remove every fault plan."""
    emu(request).faults.clear()
    return Response(status_code=204)


@router.delete("/faults/{plan_id}", status_code=204)
def delete_fault(request: Request, plan_id: str) -> Response:
    """Remove one fault plan (404 if unknown)."""
    if not emu(request).faults.remove(plan_id):
        raise HTTPException(404, f"fault plan {plan_id!r} not found")
    return Response(status_code=204)


#: Longest action phase the control plane accepts (ten years): an action's times must stay
#: within the virtual clock's range when they are written out.
MAX_ACTION_SECONDS = 10 * 365 * 86400
#: Throttle scale range: beyond it documented limits round to 1 call or overflow.
SCALE_RANGE = (1e-6, 1e6)


def _seconds(body: dict[str, Any], key: str, default: float) -> float:
    value = body.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= MAX_ACTION_SECONDS:
        raise HTTPException(400, f"{key} must be a number of seconds from 0 to {MAX_ACTION_SECONDS:,}")
    return float(value)


@router.post("/actions")
async def set_action_timing(request: Request) -> dict[str, Any]:
    """``{"type"?, "pendingSeconds", "runSeconds", "outcome"}``: how new machine actions progress."""
    body = await _json(request)
    unknown = set(body) - {"type", "pendingSeconds", "runSeconds", "outcome"}
    if unknown:
        raise HTTPException(400, f"unknown field(s): {', '.join(sorted(unknown))}")
    action_type = body.get("type")
    if action_type is not None and action_type not in ACTION_TYPES:
        raise HTTPException(400, f"type must be one of {', '.join(ACTION_TYPES)}")
    timing = emu(request).defender.actions.timing
    current = timing.for_type(action_type or "*")
    outcome = body.get("outcome", current["outcome"])
    if outcome not in OUTCOMES:
        raise HTTPException(400, f"outcome must be one of {', '.join(OUTCOMES)}")
    pending = _seconds(body, "pendingSeconds", current["pendingSeconds"])
    run = _seconds(body, "runSeconds", current["runSeconds"])
    return {"value": timing.set(action_type, pending, run, outcome)}


@router.get("/actions")
def get_action_timing(request: Request) -> dict[str, Any]:
    """The action timings (``*`` applies to types without their own)."""
    return {"value": emu(request).defender.actions.timing.all()}


@router.post("/throttling")
async def set_throttling(request: Request) -> dict[str, Any]:
    """``{"enabled": bool, "scale": float > 0}``: switch documented limits off or scale them."""
    body = await _json(request)
    enabled, scale, clear = body.get("enabled"), body.get("scale"), body.get("clear", False)
    if enabled is not None and not isinstance(enabled, bool):
        raise HTTPException(400, "enabled must be true or false")
    if not isinstance(clear, bool):
        raise HTTPException(400, "clear must be true or false")
    low, high = SCALE_RANGE
    if scale is not None and (
        isinstance(scale, bool) or not isinstance(scale, int | float) or not low <= scale <= high
    ):
        raise HTTPException(400, f"scale must be a number from {low:g} to {high:g}")
    throttle = emu(request).defender.throttle
    throttle.configure(enabled=enabled, scale=float(scale) if scale is not None else None)
    if clear:
        throttle.clear()
    return throttle.settings()


@router.get("/throttling")
def get_throttling(request: Request) -> dict[str, Any]:
    """The throttle settings."""
    return emu(request).defender.throttle.settings()
