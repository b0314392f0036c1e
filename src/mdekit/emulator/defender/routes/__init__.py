"""The Defender for Endpoint API routes (``router``), one module per API family.

Literal paths (``/api/alerts/batchUpdate``) are registered before templated ones
(``/api/alerts/{id}``) within each module, as the catalogue's ``find_operation`` also prefers them.
"""

from fastapi import APIRouter

from mdekit.emulator.defender.routes import actions, alerts, downloads, indicators, live, lookups, machines

router = APIRouter()
for module in (alerts, actions, machines, indicators, lookups, live, downloads):
    router.include_router(module.router)

__all__ = ["router"]
