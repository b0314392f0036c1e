"""The Defender for Endpoint API routes (``router``), one module per API family.

Literal paths (``/api/alerts/batchUpdate``) are registered before templated ones
(``/api/alerts/{id}``) within each module, as the catalogue's ``find_operation`` also prefers them.
The TVM exports (``/api/machines/SoftwareVulnerabilitiesByMachine`` ...) come before the machines
module for the same reason (``/api/machines/{id}``).
"""

from fastapi import APIRouter

from mdekit.emulator.defender.routes import (
    actions,
    alerts,
    downloads,
    indicators,
    live,
    lookups,
    machines,
    tvm_exports,
    tvm_posture,
    tvm_recommendations,
    tvm_software,
    tvm_vulnerabilities,
)

router = APIRouter()
for module in (alerts, actions, tvm_exports, machines, indicators, lookups, live):
    router.include_router(module.router)
for module in (tvm_vulnerabilities, tvm_software, tvm_recommendations, tvm_posture):
    router.include_router(module.router)
router.include_router(tvm_exports.files_router)  # the export files' signed download links
router.include_router(downloads.router)  # live response results and investigation packages

__all__ = ["router"]
