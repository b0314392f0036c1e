"""Control plane for the Defender API: seeding, fault plans, action timing, throttling, machine state."""

from __future__ import annotations

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
    """``{"machines", "alerts", "seed"}`` -> what was created (replaces the tenant's Defender data)."""
    body = await _json(request)
    tid = _tenant_id(request, tenant)
    machines = _count(body, "machines", 50, MAX_SEED["machines"])
    alerts = _count(body, "alerts", 200, MAX_SEED["alerts"])
    seed_value = _count(body, "seed", 0, 2**62)
    if alerts and not machines:
        raise HTTPException(400, "alerts need machines: give machines > 0")
    result = seed_tenant(emu(request).defender, tid, machines=machines, alerts=alerts, seed=seed_value)
    return {"tenantId": tid, **result.counts}


@router.get("/tenants/{tenant}/defender")
def defender_counts(request: Request, tenant: str) -> dict[str, Any]:
    """How many Defender records the tenant has."""
    tid = _tenant_id(request, tenant)
    return {"tenantId": tid, **emu(request).defender.counts(tid)}


@router.get("/tenants/{tenant}/machines/{machine_id}/state")
def machine_state(request: Request, tenant: str, machine_id: str) -> dict[str, Any]:
    """Containment the API does not show: ``{"isolation": "Full"|"Selective"|null, "restricted"}``."""
    tid = _tenant_id(request, tenant)
    defender = emu(request).defender
    defender.actions.settle(tid)
    machine = defender.machines.get(tid, machine_id)
    found = defender.machines.state(tid, machine["id"]) if machine else None
    if found is None:
        raise HTTPException(404, f"machine {machine_id!r} not found in tenant {tid}")
    return {"machineId": machine["id"] if machine else machine_id, **found}


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
