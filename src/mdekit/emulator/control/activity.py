"""Control plane for the activity generator (:mod:`mdekit.emulator.activity`).

``POST /_emulator/activity`` ``{"seed", "rates": {name: per hour}, "incidentGrowth", "tenants"}``
starts (or replaces) the plan at the clock's current minute; moving the clock applies it.
``GET`` shows it with its counters, ``POST /_emulator/activity/apply`` applies the ticks up to
now (the clock runs in real time too), ``DELETE`` stops it.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from mdekit.emulator.activity import MAX_RATE, RATES, TICK, ActivityPlan, catch_up, load_plan, save_plan
from mdekit.emulator.control.core import _json, emu

router = APIRouter()

__all__ = ["router"]


def _rates(value: Any) -> dict[str, float]:
    if value is None:
        return dict(RATES)
    if not isinstance(value, dict):
        raise HTTPException(400, "rates must be an object of events per hour")
    unknown = set(value) - set(RATES)
    if unknown:
        raise HTTPException(400, f"unknown rate(s): {', '.join(sorted(unknown))}; known: {', '.join(RATES)}")
    out = dict(RATES)
    for key, rate in value.items():
        if isinstance(rate, bool) or not isinstance(rate, int | float) or not 0 <= rate <= MAX_RATE:
            raise HTTPException(
                400, f"rates.{key} must be a number of events per hour from 0 to {MAX_RATE:g}"
            )
        out[key] = float(rate)
    return out


@router.post("/activity")
async def start_activity(request: Request) -> dict[str, Any]:
    """Start (or replace) the activity plan; answers the plan."""
    body = await _json(request)
    unknown = set(body) - {"seed", "rates", "incidentGrowth", "tenants"}
    if unknown:
        raise HTTPException(400, f"unknown field(s): {', '.join(sorted(unknown))}")
    seed = body.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**62:
        raise HTTPException(400, "seed must be a non-negative integer")
    growth = body.get("incidentGrowth", 0.3)
    if isinstance(growth, bool) or not isinstance(growth, int | float) or not 0 <= growth <= 1:
        raise HTTPException(400, "incidentGrowth must be a number from 0 to 1")
    state = emu(request)
    tenants = body.get("tenants")
    if tenants is not None:
        if not isinstance(tenants, list) or not all(isinstance(t, str) for t in tenants):
            raise HTTPException(400, "tenants must be a list of tenant ids or domains")
        found = [state.directory.find_tenant(t) for t in tenants]
        missing = [t for t, f in zip(tenants, found, strict=True) if f is None]
        if missing:
            raise HTTPException(404, f"tenant(s) not in the directory: {', '.join(missing)}")
        tenants = [f.id for f in found if f is not None]
    catch_up(state)  # a plan being replaced applies up to now first
    plan = ActivityPlan(
        seed=seed,
        rates=_rates(body.get("rates")),
        incidentGrowth=float(growth),
        tenants=tenants,
        appliedTick=int(state.clock.time() // TICK),
    )
    save_plan(state, plan)
    return plan.public()


@router.get("/activity")
def get_activity(request: Request) -> dict[str, Any]:
    """The plan and its counters (404 when none)."""
    plan = load_plan(emu(request))
    if plan is None:
        raise HTTPException(404, "no activity plan (start one with POST /_emulator/activity)")
    return plan.public()


@router.post("/activity/apply")
def apply_activity(request: Request) -> dict[str, Any]:
    """Apply the ticks up to the clock's current minute -> ``{"applied": {kind: n}}``."""
    state = emu(request)
    if load_plan(state) is None:
        raise HTTPException(404, "no activity plan (start one with POST /_emulator/activity)")
    return {"applied": catch_up(state)}


@router.delete("/activity", status_code=204)
def stop_activity(request: Request) -> Response:
    """Stop the activity (what was applied stays)."""
    save_plan(emu(request), None)
    return Response(status_code=204)
