"""Where the download links lead: live response results and investigation packages.

No bearer token: the link's signature and expiry are the credential, as with the real SAS and
``safedownload`` links. A bad or expired link is refused as Azure Storage refuses a SAS: 403 with
an XML ``AuthenticationFailed`` error (the packages' host answering the same way is UNVERIFIED).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse

from mdekit.emulator.defender.filesystem import FileEntry
from mdekit.emulator.defender.links import LinkRefused, iso_z, parse_iso_z
from mdekit.emulator.defender.routes.common import store
from mdekit.emulator.defender.wire import ApiFailure

router = APIRouter(include_in_schema=False)

_RESULT = "/investigation-actions-data/{tenant}/CustomPlaybookCommandOutput/{action_id}/{index}"
PACKAGE = "/safedownload/WDATP_Investigation_Package.zip"


def _http_date(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%a, %d %b %Y %H:%M:%S GMT")


def _refused(request: Request, detail: str) -> Response:
    now = request.app.state.emu.clock.time()
    body = (
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>AuthenticationFailed</Code>'
        "<Message>Server failed to authenticate the request. Make sure the value of Authorization header is "
        f"formed correctly including the signature.\nRequestId:{uuid.uuid4()}\nTime:{iso_z(now)}</Message>"
        f"<AuthenticationErrorDetail>{detail}</AuthenticationErrorDetail></Error>"
    )
    return Response(body, status_code=403, media_type="application/xml")


def _check(request: Request, path: str, expiry: int | None, sig: str | None) -> Response | None:
    now = request.app.state.emu.clock.time()
    if expiry is None or not sig:
        return _refused(request, "Signature fields not well formed.")
    try:
        store(request).links.check(path, expiry, sig)
    except LinkRefused as refused:
        if refused.reason == "expired":
            return _refused(
                request,
                f"Signature not valid in the specified time frame: Expiry [{_http_date(expiry)}] - "
                f"Current [{_http_date(now)}]",
            )
        return _refused(request, "Signature did not match.")
    return None


def _not_found() -> Response:
    body = (
        '<?xml version="1.0" encoding="utf-8"?><Error><Code>BlobNotFound</Code>'
        "<Message>The specified blob does not exist.</Message></Error>"
    )
    return Response(body, status_code=404, media_type="application/xml")


@router.get(_RESULT)
def live_response_result(request: Request, tenant: str, action_id: str, index: str) -> Response:
    """A command's result: the RunScript transcript (JSON) or the collected file's bytes."""
    path = f"/investigation-actions-data/{tenant}/CustomPlaybookCommandOutput/{action_id}/{index}"
    refused = _check(
        request, path, parse_iso_z(request.query_params.get("se", "")), request.query_params.get("sig")
    )
    if refused is not None:
        return refused
    defender = store(request)
    action = defender.actions.get(tenant, action_id)
    try:
        result = defender.live.result(tenant, action, int(index)) if action else None
    except (ApiFailure, ValueError):
        result = None
    if result is None:
        return _not_found()
    if result["kind"] == "transcript":
        data = json.dumps(result["transcript"], ensure_ascii=False).encode("utf-8")
        return Response(
            data, media_type="application/octet-stream", headers={"Content-Length": str(len(data))}
        )
    entry = FileEntry(
        result["path"],
        result["size"],
        None,
        "result",
        result["text"].encode("latin-1") if result.get("text") is not None else None,
        result.get("blob"),
    )
    chunks: Iterator[bytes] = defender.files.chunks(tenant, result["machineId"], entry)
    return StreamingResponse(
        chunks, media_type="application/octet-stream", headers={"Content-Length": str(result["size"])}
    )


@router.get(PACKAGE)
def investigation_package(request: Request, token: str = "") -> Any:
    """The zip of a collected investigation package (``token`` = tenant.action.expiry.signature)."""
    from mdekit.emulator.defender.package import build_package

    parts = token.split(".")
    if len(parts) != 4 or not parts[2].isdigit():
        return _refused(request, "Signature fields not well formed.")
    tenant, action_id, expiry, sig = parts
    refused = _check(request, f"{PACKAGE}/{tenant}/{action_id}", int(expiry), sig)
    if refused is not None:
        return refused
    defender = store(request)
    action = defender.actions.get(tenant, action_id)
    if action is None or action["type"] != "CollectInvestigationPackage" or action["status"] != "Succeeded":
        return _not_found()
    data = build_package(defender, tenant, action)
    return Response(
        data,
        media_type="application/zip",
        headers={"Content-Disposition": 'attachment; filename="WDATP_Investigation_Package.zip"'},
    )
