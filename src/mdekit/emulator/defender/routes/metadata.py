"""``GET /api/$metadata``: the service's OData schema (CSDL XML), generated from the entity model."""

from __future__ import annotations

from fastapi import Depends, Request, Response

from mdekit.emulator.defender.auth import Caller, require
from mdekit.emulator.defender.csdl import METADATA_XML, csdl_document
from mdekit.emulator.defender.routes.common import ERRORS
from mdekit.emulator.defender.wire import MdeRoute
from mdekit.emulator.routing import PrefixRouter

router = PrefixRouter(route_class=MdeRoute, tags=["Metadata"], responses=ERRORS)

__all__ = ["router"]


@router.get(
    "/api/$metadata",
    operation_id="metadata_get",
    summary="The OData schema (entity sets, types and properties) as CSDL XML",
    response_class=Response,
)
def metadata(request: Request, caller: Caller = Depends(require("metadata.get"))) -> Response:
    return Response(csdl_document(), media_type=METADATA_XML, headers={"OData-Version": "4.0"})
