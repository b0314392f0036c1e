"""Where the download links lead: live response results and investigation packages.

No bearer token: the link's signature and validity window are the credential, as with the real
SAS and ``safedownload`` links (:mod:`mdekit.emulator.defender.sas`). A bad or expired link is
refused as Azure Storage refuses a SAS (the packages' real host answering the same way is
UNVERIFIED).
"""

from __future__ import annotations

import json

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from mdekit.emulator.clock import format_odata_time
from mdekit.emulator.defender.filesystem import FileEntry
from mdekit.emulator.defender.routes.common import storage_error, store
from mdekit.emulator.defender.sas import SasError, blob_not_found
from mdekit.emulator.defender.wire import ApiFailure

__all__ = ["PACKAGE", "package_resource", "result_path", "router"]

router = APIRouter(include_in_schema=False)

PACKAGE = "/safedownload/WDATP_Investigation_Package.zip"


def result_path(tenant: str, action_id: str, index: int | str) -> str:
    """The path a live response command's result is served at (its link signs it)."""
    return f"/investigation-actions-data/{tenant}/CustomPlaybookCommandOutput/{action_id}/{index}"


def package_resource(tenant: str, action_id: str) -> str:
    """Path and ``token`` of an investigation package link (its SAS signs both)."""
    return f"{PACKAGE}?token={tenant}.{action_id}"


def _refused(request: Request, error: SasError) -> Response:
    return storage_error(error, format_odata_time(request.app.state.emu.clock.now()))


@router.get(result_path("{tenant}", "{action_id}", "{index}"))
def live_response_result(request: Request, tenant: str, action_id: str, index: str) -> Response:
    """A command's result: the RunScript transcript (JSON) or the collected file's bytes (streamed)."""
    defender = store(request)
    try:
        defender.links.check(result_path(tenant, action_id, index), request.query_params)
        action = defender.actions.get(tenant, action_id)
        if action is None:
            raise blob_not_found()
        try:
            result = defender.live.result(tenant, action, int(index))
        except (ApiFailure, ValueError):
            raise blob_not_found() from None
    except SasError as error:
        return _refused(request, error)
    if result["kind"] == "transcript":
        data = json.dumps(result["transcript"], ensure_ascii=False).encode("utf-8")
        return Response(data, media_type="application/octet-stream")
    text = result.get("text")
    entry = FileEntry(
        result["path"],
        result["size"],
        None,
        "result",
        text.encode("latin-1") if text is not None else None,
        result.get("blob"),
    )
    return StreamingResponse(
        defender.files.chunks(tenant, result["machineId"], entry),
        media_type="application/octet-stream",
        headers={"Content-Length": str(result["size"])},
    )


@router.get(PACKAGE)
def investigation_package(request: Request, token: str = "") -> Response:
    """The zip of a collected investigation package (``token`` = tenant.action, SAS-signed)."""
    from mdekit.emulator.defender.package import build_package

    defender = store(request)
    tenant, _, action_id = token.partition(".")
    try:
        defender.links.check(package_resource(tenant, action_id), request.query_params)
        action = defender.actions.get(tenant, action_id)
        if (
            action is None
            or action["type"] != "CollectInvestigationPackage"
            or action["status"] != "Succeeded"
        ):
            raise blob_not_found()
    except SasError as error:
        return _refused(request, error)
    return Response(
        build_package(defender, tenant, action),
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="WDATP_Investigation_Package.zip"'},
    )
