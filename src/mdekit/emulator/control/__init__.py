"""The control plane under ``/_emulator/``: JSON in and out, loopback clients only.

``core`` serves the clock, reset and the request journal; ``directory`` the tenants, apps,
permissions, consent and secrets; ``signin`` users and device-code sign-ins; ``defender``
seeding, fault plans and action timing; ``live`` live response scripts, machine files and
investigation timing; ``activity`` the activity generator on the virtual clock;
:mod:`mdekit.emulator.incidents.control` grouping alerts into incidents and merging them.
"""

from fastapi import Depends

from mdekit.emulator import retired
from mdekit.emulator.control import activity, core, defender, directory, live, signin
from mdekit.emulator.incidents import control as incidents
from mdekit.emulator.routing import PrefixRouter

PREFIX = "/_emulator"


# Guarded: a path outside /_emulator skips its 53 routes at once (issue 19).
router = PrefixRouter(
    guard=(PREFIX,), prefix=PREFIX, dependencies=[Depends(core.loopback_only)], include_in_schema=False
)
router.include_router(core.router)
router.include_router(directory.router)
router.include_router(signin.router)
router.include_router(defender.router)
router.include_router(incidents.router)
router.include_router(retired.router)
router.include_router(live.router)
router.include_router(activity.router)

__all__ = ["router"]
