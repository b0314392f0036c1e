"""The control plane under ``/_emulator/``: JSON in and out, loopback clients only.

``core`` serves the clock, reset and the request journal; ``directory`` the tenants, apps,
permissions, consent and secrets; ``defender`` seeding, fault plans and action timing.
"""

from fastapi import APIRouter, Depends

from mdekit.emulator.control import core, defender, directory, live

router = APIRouter(prefix="/_emulator", dependencies=[Depends(core.loopback_only)], include_in_schema=False)
router.include_router(core.router)
router.include_router(directory.router)
router.include_router(defender.router)
router.include_router(live.router)

__all__ = ["router"]
