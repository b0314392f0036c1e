"""Assessment exports: paged JSON (``pageSize``, ``$skiptoken``, ``sinceTime``) and signed gzip files.

The ``...Export`` calls answer URLs on this emulator's own host, shaped like the service's Azure
Storage SAS links (``/tvm-export/<date>/<time>/<VaExport|SoftwareInventory|ScaExport>/json/
OrgId=<tenant>/part-00000-<id>.c000.json.gz?sv=...&st=...&se=...&sr=b&sp=r&sig=...``). The
download (:data:`files_router`) needs no bearer token, checks the signature and the validity
window on the virtual clock, and answers Azure Storage's XML errors (403 AuthenticationFailed,
404 BlobNotFound) as blob storage does.
"""

from __future__ import annotations

import re
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response

from mdekit.catalog import operation
from mdekit.emulator.clock import format_odata_time, parse_time
from mdekit.emulator.defender.auth import Caller, require
from mdekit.emulator.defender.odata import ODataError, check_option_names
from mdekit.emulator.defender.routes.common import ERRORS, storage_error
from mdekit.emulator.defender.routes.tvm_common import object_answer, tvm
from mdekit.emulator.defender.sas import SasError
from mdekit.emulator.defender.tvm.exports import (
    change_rows,
    decode_token,
    encode_token,
    export_rows,
)
from mdekit.emulator.defender.wire import MdeRoute, bad_request, odata_collection
from mdekit.emulator.routing import PrefixRouter

router = PrefixRouter(route_class=MdeRoute, tags=["Assessment exports"], responses=ERRORS)
files_router = APIRouter(include_in_schema=False)

PAGE_SIZE = Query(None, alias="pageSize", description="Rows per page (default 50,000, at most 200,000)")
SKIPTOKEN = Query(None, alias="$skiptoken", description="Continuation from @odata.nextLink")
TOP = Query(None, alias="$top", description="Rows to return (no @odata.nextLink)")
SAS_HOURS = Query(
    None, alias="sasValidHours", description="Hours the download URLs stay valid (1-6, default 1)"
)
SINCE = Query(None, alias="sinceTime", description="Changes since this time (at most 14 days back)")

_DEFAULT_PAGE, _MAX_PAGE = 50_000, 200_000
_NAMESPACE = "microsoft.windowsDefenderATP.api"
_DELTA_DAYS = 14
_SIX_HOURS = 6 * 3600


def _options(request: Request, allowed: tuple[str, ...]) -> dict[str, str]:
    """The query options, keys lowercased (``pagesize`` in nextLinks, ``pageSize`` in the docs)."""
    options = {k.lower(): v for k, v in request.query_params.items()}
    try:
        check_option_names(options, allowed)
    except ODataError as exc:
        raise bad_request("ODataError", str(exc)) from None
    return options


def _int(options: dict[str, str], key: str, name: str, lo: int, hi: int) -> int | None:
    text = options.get(key)
    if text is None:
        return None
    # ASCII digits, 10 at most: int() refuses '²' (which isdigit() accepts) and 4,300+ digits
    if not re.fullmatch(r"[0-9]{1,10}", text.strip()) or not lo <= int(text) <= hi:
        raise bad_request(
            "InvalidInput", f"Invalid input {name}: '{text}'. Expected an integer from {lo} to {hi}"
        )
    return int(text)


def _time_path(request: Request) -> str:
    return format_odata_time(request.app.state.emu.clock.now())[:16].replace("T", "/").replace(":", "")


def _page(request: Request, set_name: str, rows_for: Any, extra: dict[str, str] | None = None) -> Any:
    """One page of an export: ``$top`` rows without a link, or ``pageSize`` rows and a nextLink."""
    options = _options(request, ("$top", "$skiptoken"))
    size = _int(options, "pagesize", "pageSize", 1, _MAX_PAGE) or _DEFAULT_PAGE
    top = _int(options, "$top", "$top", 0, _MAX_PAGE)
    offset = 0
    if options.get("$skiptoken"):
        try:
            offset = decode_token(options["$skiptoken"])
        except ValueError:
            raise bad_request(
                "InvalidInput", "Invalid input $skiptoken: the skip token is not valid"
            ) from None
    if top is not None:
        return odata_collection(request, set_name, list(rows_for(offset, top)))
    rows = list(rows_for(offset, size + 1))
    link = None
    if len(rows) > size:
        rows = rows[:size]
        host = request.headers.get("host") or "api.securitycenter.microsoft.com"
        params = [*(f"{k}={quote(v, safe='')}" for k, v in (extra or {}).items()), f"pagesize={size}"]
        token = encode_token(_time_path(request) + "/", offset + size)
        link = f"https://{host}{request.url.path}?{'&'.join(params)}&$skiptoken={token}"
    return odata_collection(request, set_name, rows, link)


def _export(request: Request, caller: Caller, kind: str, type_name: str) -> Any:
    store, tenant = tvm(request), caller.tenant_id
    return _page(
        request,
        f"Collection({_NAMESPACE}.{type_name})",
        lambda offset, limit: export_rows(store, kind, tenant, offset=offset, limit=limit),
    )


@router.get(
    "/api/machines/SoftwareVulnerabilityChangesByMachine",
    operation_id="exports_software_vulnerability_changes",
    summary="Software vulnerability changes since a time (paged JSON)",
)
def software_vulnerability_changes(
    request: Request,
    caller: Caller = Depends(require("exports.software_vulnerability_changes")),
    since_time: str | None = SINCE,
    page_size: str | None = PAGE_SIZE,
    top: str | None = TOP,
    skiptoken: str | None = SKIPTOKEN,
) -> Any:
    options = _options(request, ("$top", "$skiptoken"))
    text = options.get("sincetime")
    if not text:
        raise bad_request("MissingRequiredParameter", "Parameter sinceTime is missing.")
    try:
        since = parse_time(text)
    except ValueError:
        raise bad_request("InvalidInput", f"Invalid input sinceTime: '{text}'") from None
    now = request.app.state.emu.clock.now()
    if since < now - timedelta(days=_DELTA_DAYS):
        raise bad_request(
            "InvalidInput", f"Invalid input sinceTime: it can be at most {_DELTA_DAYS} days back"
        )
    # Changes are collected in 6-hour runs: the run sinceTime falls in counts whole.
    start = since.timestamp() // _SIX_HOURS * _SIX_HOURS
    since_text = format_odata_time(since.fromtimestamp(start, since.tzinfo))
    store, tenant = tvm(request), caller.tenant_id
    return _page(
        request,
        f"Collection({_NAMESPACE}.DeltaAssetVulnerability)",
        lambda offset, limit: change_rows(store, tenant, since_text, offset=offset, limit=limit),
        extra={"sincetime": text},
    )


def _files(request: Request, caller: Caller, kind: str) -> Any:
    options = _options(request, ())
    text = options.get("sasvalidhours")
    hours = 1.0
    if text is not None:
        try:
            hours = float(text)
        except ValueError:
            hours = -1.0
        if not 0 < hours <= 6:
            raise bad_request(
                "InvalidInput", f"Invalid input sasValidHours: '{text}'. The maximum is 6 hours"
            )
    host = request.headers.get("host") or "api.securitycenter.microsoft.com"
    urls, generated = request.app.state.emu.defender.tvm_files.generate(caller.tenant_id, kind, host, hours)
    return object_answer(
        request, f"{_NAMESPACE}.ExportFilesResponse", {"exportFiles": urls, "generatedTime": generated}
    )


# (operation, export, row type) of the paged JSON exports and (operation, export) of the file ones:
# one handler each, made by a factory (they differ by these values only).
_JSON_EXPORTS = (
    ("exports.software_vulnerabilities", "vulnerabilities", "AssetVulnerability"),
    ("exports.software_inventory", "inventory", "AssetSoftware"),
    ("exports.secure_config", "configurations", "AssetConfiguration"),
)
_FILE_EXPORTS = (
    ("exports.software_vulnerabilities_files", "vulnerabilities"),
    ("exports.software_inventory_files", "inventory"),
    ("exports.secure_config_files", "configurations"),
)
_SUMMARY = {
    "vulnerabilities": "Software vulnerabilities of every machine",
    "inventory": "Installed software of every machine",
    "configurations": "Secure configuration assessment of every machine",
}


def _json_export_route(op_name: str, kind: str, type_name: str) -> Any:
    def export(
        request: Request,
        caller: Caller = Depends(require(op_name)),
        page_size: str | None = PAGE_SIZE,
        top: str | None = TOP,
        skiptoken: str | None = SKIPTOKEN,
    ) -> Any:
        return _export(request, caller, kind, type_name)

    return export


def _file_export_route(op_name: str, kind: str) -> Any:
    def export_files(
        request: Request,
        caller: Caller = Depends(require(op_name)),
        sas_valid_hours: str | None = SAS_HOURS,
    ) -> Any:
        return _files(request, caller, kind)

    return export_files


for _op_name, _kind, _type in _JSON_EXPORTS:
    router.add_api_route(
        operation(_op_name).path,
        _json_export_route(_op_name, _kind, _type),
        methods=["GET"],
        operation_id=_op_name.replace(".", "_"),
        summary=f"{_SUMMARY[_kind]} (paged JSON)",
    )
for _op_name, _kind in _FILE_EXPORTS:
    router.add_api_route(
        operation(_op_name).path,
        _file_export_route(_op_name, _kind),
        methods=["GET"],
        operation_id=_op_name.replace(".", "_"),
        summary=f"{_SUMMARY[_kind]} as files",
    )


@files_router.get("/tvm-export/{rest:path}")
async def download_export_file(request: Request, rest: str) -> Response:
    """A file of a file export (signed URL, no bearer token), gzip-compressed JSON lines."""
    files = request.app.state.emu.defender.tvm_files
    now = format_odata_time(request.app.state.emu.clock.now())
    try:
        download = files.check(request.url.path, dict(request.query_params))
        content = await run_in_threadpool(files.content, download)
    except SasError as error:
        return storage_error(error, now)
    headers = {
        "x-ms-request-id": str(uuid.uuid4()),
        "x-ms-version": "2019-12-12",
        "x-ms-blob-type": "BlockBlob",
    }
    return Response(content, 200, headers=headers, media_type="application/octet-stream")


__all__ = ["files_router", "router"]
