"""``/api/indicators``: list, submit-or-update, import, delete, batch delete."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from fastapi import Depends, Path, Request, Response

from mdekit.emulator.clock import format_odata_time, parse_time
from mdekit.emulator.defender import enums
from mdekit.emulator.defender.auth import Caller, require
from mdekit.emulator.defender.indicators import Visibility
from mdekit.emulator.defender.routes.common import (
    COUNT,
    ERRORS,
    FILTER,
    ORDERBY,
    SELECT,
    SKIP,
    TOP,
    Prop,
    body_schema,
    check_body,
    count_route,
    list_answer,
    list_options,
    read_body,
    store,
)
from mdekit.emulator.defender.seed.pools import RBAC_GROUPS
from mdekit.emulator.defender.wire import ApiFailure, MdeRoute, bad_request, not_found, odata_collection
from mdekit.emulator.defender.wire import entity as _entity
from mdekit.emulator.routing import PrefixRouter

router = PrefixRouter(route_class=MdeRoute, tags=["Indicators"], responses=ERRORS)

_READ_ONLY = (
    "id",
    "createdBy",
    "createdByDisplayName",
    "createdBySource",
    "creationTimeDateTimeUtc",
    "lastUpdateTime",
    "lastUpdatedBy",
    "rbacGroupIds",
    "source",
    "sourceType",
)
_HASH = {"FileSha1": 40, "FileSha256": 64, "FileMd5": 32, "CertificateThumbprint": 40}
_DOMAIN = re.compile(r"^(?=.{1,253}$)([A-Za-z0-9-]{1,63}\.)+[A-Za-z]{2,63}$")


def _time(value: Any) -> str | None:
    try:
        parse_time(str(value))
    except ValueError:
        return f"'{value}' is not an ISO 8601 time"
    return None


def _group_names(value: Any) -> str | None:
    """``rbacGroupNames``: the docs' comma-separated string, or (as their own example) a list."""
    if isinstance(value, str) or (isinstance(value, list) and all(isinstance(v, str) for v in value)):
        return None
    return "expected a comma-separated string or a list of device group names"


#: The documented body (post-ti-indicator) plus the entity's other writable fields real clients
#: send (an import example carries them all, [FS:41714289330]): accepted, the lenient choice.
_SUBMIT = {
    "indicatorValue": Prop(required=True),
    "indicatorType": Prop(required=True, values=enums.INDICATOR_TYPES),
    "action": Prop(required=True, values=enums.INDICATOR_ACTIONS),
    "application": Prop(),
    "title": Prop(required=True),
    "description": Prop(required=True),
    "expirationTime": Prop(check=_time),
    "severity": Prop(values=enums.SETTABLE_SEVERITIES),
    "recommendedActions": Prop(),
    "rbacGroupNames": Prop("any", check=_group_names),
    "generateAlert": Prop("boolean"),
    "educateUrl": Prop(),
    "category": Prop("integer"),
    "bypassDurationHours": Prop("integer"),
    "notificationId": Prop(),
    "notificationBody": Prop(),
    "version": Prop(),
    "mitreTechniques": Prop("array"),
    "historicalDetection": Prop("boolean"),
    "lookBackPeriod": Prop(),
    "additionalInfo": Prop(),
    "externalId": Prop(),
    "externalID": Prop(),  # the docs table's spelling
    "certificateInfo": Prop("any"),
    # Read-only: what a client read and sends back is accepted and ignored.
    **{name: Prop("any") for name in _READ_ONLY},
}
_IMPORT = {"Indicators": Prop("array", required=True, items="object")}
_BATCH_DELETE = {"IndicatorIds": Prop("array", required=True)}
ID = Path(description="Indicator id")


def _visibility(caller: Caller) -> Visibility:
    return Visibility(None if caller.has("Ti.ReadWrite.All") else caller.app_id)


def validate_value(body: dict[str, Any]) -> None:
    """The value must suit its type; ``Audit`` needs ``generateAlert``; CIDR is not supported."""
    itype, value = body["indicatorType"], body["indicatorValue"].strip()
    if itype in _HASH and not re.fullmatch(f"[0-9a-fA-F]{{{_HASH[itype]}}}", value):
        raise bad_request("InvalidHashValue", f"Hash value {value} is invalid for {itype}")
    if itype == "IpAddress":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            raise bad_request(
                "InvalidIpAddress", f"IP address {value} is invalid (CIDR is not supported)"
            ) from None
    if itype == "DomainName" and not _DOMAIN.match(value):
        raise bad_request("InvalidDomainName", f"Domain name {value} is invalid")
    if itype == "Url" and not re.match(r"^(https?://)?[^\s/]+\.[^\s]+$", value):
        raise bad_request("InvalidUrl", f"URL {value} is invalid")
    if body["action"] == "Audit" and not body.get("generateAlert"):
        raise bad_request("InvalidInput", "Invalid input generateAlert: must be true for the Audit action")


def _normalize(body: dict[str, Any]) -> dict[str, Any]:
    """Read-only fields dropped, ``externalID`` read as ``externalId``, group names as a list (and
    their ids from the tenant's device groups)."""
    body = {k: v for k, v in body.items() if k not in _READ_ONLY}
    if "externalID" in body:
        body.setdefault("externalId", body.pop("externalID"))
    if body.get("expirationTime"):
        body["expirationTime"] = format_odata_time(parse_time(body["expirationTime"]))
    names = body.get("rbacGroupNames")
    if isinstance(names, str):
        names = [n.strip() for n in names.split(",")]
    if names is not None:
        body["rbacGroupNames"] = [n for n in dict.fromkeys(names) if n]
        ids = dict((name, gid) for gid, name in RBAC_GROUPS if name)
        # Names the tenant has no group for get no id (what the service does then is UNVERIFIED).
        body["rbacGroupIds"] = [str(ids[n]) for n in body["rbacGroupNames"] if n in ids]
    return body


def _submit_one(request: Request, caller: Caller, c: Any, body: dict[str, Any]) -> dict[str, Any]:
    validate_value(body)
    ind = store(request).indicators.upsert(
        c, caller.tenant_id, _normalize(body), caller.app_id, caller.display_name, _visibility(caller)
    )
    if ind is None:
        raise ApiFailure(
            403,
            "DisallowedOperation",
            "The indicator exists and was created by another application (Ti.ReadWrite.All needed)",
        )
    return ind


@router.get("/api/indicators", operation_id="indicators_list", summary="List indicators")
def list_indicators(
    request: Request,
    caller: Caller = Depends(require("indicators.list")),
    f: str | None = FILTER,
    top: str | None = TOP,
    skip: str | None = SKIP,
    select: str | None = SELECT,
    orderby: str | None = ORDERBY,
    count: str | None = COUNT,
) -> Any:
    query = list_options(request, enums.INDICATOR_FIELDS, "Indicators")
    items, more = store(request).indicators.answer_page(caller.tenant_id, query, _visibility(caller))
    return list_answer(request, "Indicators", query, items, more)


count_route(router, list_indicators, "indicators.count")


@router.post(
    "/api/indicators",
    operation_id="indicators_submit",
    summary="Submit or update an indicator",
    openapi_extra=body_schema(_SUBMIT),
)
async def submit(request: Request, caller: Caller = Depends(require("indicators.submit"))) -> Any:
    body = await read_body(request, _SUBMIT)
    with store(request).db.tx() as c:
        ind = _submit_one(request, caller, c, body)
    return _entity(request, "Indicators", ind)


@router.post(
    "/api/indicators/import",
    operation_id="indicators_import",
    summary="Import up to 500 indicators",
    openapi_extra=body_schema(_IMPORT),
)
async def import_indicators(request: Request, caller: Caller = Depends(require("indicators.import"))) -> Any:
    items = (await read_body(request, _IMPORT))["Indicators"]
    if not items or len(items) > 500:
        raise ApiFailure(
            400,
            "MaximumBatchSizeExceeded" if items else "InvalidInput",
            f"Maximum batch size exceeded. Received: {len(items)}, allowed: 500."
            if items
            else "Invalid input Indicators: at least one indicator is required",
        )
    results = []
    with store(request).db.tx() as c:
        for item in items:
            value = item.get("indicatorValue") if isinstance(item, dict) else None
            try:
                ind = _submit_one(request, caller, c, check_body(item, _SUBMIT))
                results.append(
                    {
                        "id": ind["id"],
                        "indicator": ind["indicatorValue"],
                        "isFailed": False,
                        "failureReason": None,
                    }
                )
            except ApiFailure as exc:
                results.append(
                    {"id": None, "indicator": value, "isFailed": True, "failureReason": exc.message}
                )
    return odata_collection(
        request, "Collection(microsoft.windowsDefenderATP.api.ImportIndicatorResult)", results
    )


@router.post(
    "/api/indicators/BatchDelete",
    operation_id="indicators_batch_delete",
    summary="Delete up to 500 indicators",
    status_code=204,
    openapi_extra=body_schema(_BATCH_DELETE),
)
async def batch_delete(
    request: Request, caller: Caller = Depends(require("indicators.batch_delete"))
) -> Response:
    body = await read_body(request, _BATCH_DELETE)
    ids = [str(i) for i in body["IndicatorIds"]]
    if not ids or len(ids) > 500:
        raise bad_request(
            "MaximumBatchSizeExceeded" if ids else "InvalidInput",
            f"Maximum batch size exceeded. Received: {len(ids)}, allowed: 500."
            if ids
            else "Invalid input IndicatorIds: at least one id is required",
        )
    bad = [i for i in ids if not (i.isdigit() and len(i) < 18)]
    if bad:
        raise bad_request("InvalidInput", f"Invalid input IndicatorIds: '{bad[0]}' is not an indicator id")
    indicators = store(request).indicators
    found = indicators.existing(caller.tenant_id, ids, _visibility(caller))
    missing = [i for i in ids if i not in found]
    if missing:
        raise not_found("Indicator", missing[0])
    indicators.delete(caller.tenant_id, ids)
    return Response(status_code=204)


@router.delete(
    "/api/indicators/{id}", operation_id="indicators_delete", summary="Delete an indicator", status_code=204
)
def delete_indicator(
    request: Request, id: str = ID, caller: Caller = Depends(require("indicators.delete"))
) -> Response:
    indicators = store(request).indicators
    if not (id.isdigit() and len(id) < 18) or id not in indicators.existing(
        caller.tenant_id, [id], _visibility(caller)
    ):
        raise not_found("Indicator", id)
    indicators.delete(caller.tenant_id, [id])
    return Response(status_code=204)
