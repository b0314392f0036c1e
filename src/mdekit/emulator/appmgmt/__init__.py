"""Microsoft Graph application management: applications, service principals, app role grants.

What ``mde setup`` (and any script doing the portal's app-registration steps) calls, served on the
one directory the token service and the Defender API read: an app created here is the app tokens
are issued for, and a role granted here is in its next token. Built from the reusable Graph
package (:mod:`mdekit.emulator.graph`): envelope, OData lists, per-operation checks.
"""

from fastapi import APIRouter

from mdekit.emulator.appmgmt import applications, principals

router = APIRouter()
router.include_router(applications.router)
router.include_router(principals.router)

__all__ = ["router"]
