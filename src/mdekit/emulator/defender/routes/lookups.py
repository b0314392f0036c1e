"""Files, IPs, domains, users and investigations: lookups consistent with the seeded alerts and machines."""

from __future__ import annotations

import ipaddress
import re
from typing import Any

from fastapi import Depends, Path, Query, Request

from mdekit.emulator.defender import enums
from mdekit.emulator.defender.auth import Caller, require
from mdekit.emulator.defender.routes.common import (
    COUNT,
    ERRORS,
    FILTER,
    ORDERBY,
    SELECT,
    SKIP,
    TOP,
    collection_answer,
    count_route,
    list_answer,
    list_options,
    store,
)
from mdekit.emulator.defender.wire import MdeRoute, bad_request, entity, not_found, object_answer
from mdekit.emulator.routing import PrefixRouter

router = PrefixRouter(
    route_class=MdeRoute, tags=["Files, IPs, domains, users, investigations"], responses=ERRORS
)

LOOKBACK = Query(None, ge=1, le=720, description="Hours to look back (≤ 720; default 30 days)")
_STATS = "microsoft.windowsDefenderATP.api.InOrg{}Stats"
#: A file id: SHA-1 or SHA-256 (the pages), MD5 accepted as well (the lenient choice, UNVERIFIED).
_FILE_HASH = re.compile(r"^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{40}|[0-9a-fA-F]{64})$")


def _file_hash(value: str) -> str:
    """*value* if it is a well-formed hash, else 400 ``InvalidHashValue`` (common-errors; the words
    are UNVERIFIED)."""
    if not _FILE_HASH.match(value):
        raise bad_request("InvalidHashValue", f"Hash value {value} is invalid")
    return value


def _related_alerts(request: Request, caller: Caller, kind: str, value: str) -> Any:
    query = list_options(request, enums.ALERT_FIELDS, "Alerts", expand=("evidence",))
    items, more = store(request).alerts.related(caller.tenant_id, kind, value, query)
    return list_answer(request, "Alerts", query, items, more)


def _machines(request: Request, caller: Caller, ids: list[str]) -> Any:
    defender = store(request)
    defender.actions.settle(caller.tenant_id)
    machines = defender.machines.by_ids(caller.tenant_id, ids[:500])
    return collection_answer(request, "Machines", machines, enums.MACHINE_FIELDS)


def _check_ip(ip: str) -> None:
    try:
        ipaddress.ip_address(ip)
    except ValueError:
        raise bad_request("InvalidIpAddress", f"IP address {ip} is invalid") from None


@router.get("/api/files/{id}", operation_id="files_get", summary="File profile by SHA-1 or SHA-256")
def get_file(request: Request, id: str = Path(), caller: Caller = Depends(require("files.get"))) -> Any:
    found = store(request).lookups.file(caller.tenant_id, _file_hash(id))
    if found is None:
        raise not_found("File", id)
    # The get-file-information example has no md5 (the alert-files example has it).
    return entity(request, "Files", {k: v for k, v in found.items() if k != "md5"})


@router.get(
    "/api/files/{id}/stats", operation_id="files_stats", summary="File statistics in the organization"
)
def file_stats(
    request: Request,
    id: str = Path(),
    lookBackHours: int | None = LOOKBACK,
    caller: Caller = Depends(require("files.stats")),
) -> Any:
    defender = store(request)
    found = defender.lookups.file(caller.tenant_id, _file_hash(id))
    if found is None:
        raise not_found("File", id)
    st = defender.alerts.stats(caller.tenant_id, "file", found["sha1"])
    # Real capture [FS:14410719314]: each prevalence twice, as text and as a number.
    return object_answer(
        request,
        _STATS.format("File"),
        {
            "sha1": found["sha1"],
            "orgPrevalence": str(st["prevalence"]),
            "organizationPrevalence": st["prevalence"],
            "orgFirstSeen": st["first"],
            "orgLastSeen": st["last"],
            "globalPrevalence": str(found["globalPrevalence"]),
            "globallyPrevalence": found["globalPrevalence"],
            "globalFirstObserved": found["globalFirstObserved"],
            "globalLastObserved": found["globalLastObserved"],
            "topFileNames": [],
        },
    )


@router.get("/api/files/{id}/alerts", operation_id="files_alerts", summary="Alerts naming a file (SHA-1)")
def file_alerts(request: Request, id: str = Path(), caller: Caller = Depends(require("files.alerts"))) -> Any:
    return _related_alerts(request, caller, "file", _file_hash(id))


@router.get(
    "/api/files/{id}/machines", operation_id="files_machines", summary="Machines where a file was seen"
)
def file_machines(
    request: Request, id: str = Path(), caller: Caller = Depends(require("files.machines"))
) -> Any:
    sha = _file_hash(id)
    return _machines(request, caller, store(request).alerts.machine_ids_for(caller.tenant_id, "file", sha))


@router.get("/api/ips/{id}/stats", operation_id="ips_stats", summary="IP address statistics")
def ip_stats(
    request: Request,
    id: str = Path(),
    lookBackHours: int | None = LOOKBACK,
    caller: Caller = Depends(require("ips.stats")),
) -> Any:
    _check_ip(id)
    st = store(request).alerts.stats(caller.tenant_id, "ip", id)
    return object_answer(
        request,
        _STATS.format("IP"),
        {
            "ipAddress": id,
            "organizationPrevalence": st["prevalence"],
            "orgFirstSeen": st["first"],
            "orgLastSeen": st["last"],
        },
    )


@router.get("/api/ips/{id}/alerts", operation_id="ips_alerts", summary="Alerts naming an IP address")
def ip_alerts(request: Request, id: str = Path(), caller: Caller = Depends(require("ips.alerts"))) -> Any:
    _check_ip(id)
    return _related_alerts(request, caller, "ip", id)


@router.get("/api/domains/{id}/alerts", operation_id="domains_alerts", summary="Alerts naming a domain")
def domain_alerts(
    request: Request, id: str = Path(), caller: Caller = Depends(require("domains.alerts"))
) -> Any:
    return _related_alerts(request, caller, "domain", id)


@router.get(
    "/api/domains/{id}/machines", operation_id="domains_machines", summary="Machines that reached a domain"
)
def domain_machines(
    request: Request, id: str = Path(), caller: Caller = Depends(require("domains.machines"))
) -> Any:
    return _machines(request, caller, store(request).alerts.machine_ids_for(caller.tenant_id, "domain", id))


@router.get("/api/domains/{id}/stats", operation_id="domains_stats", summary="Domain statistics")
def domain_stats(
    request: Request,
    id: str = Path(),
    lookBackHours: int | None = LOOKBACK,
    caller: Caller = Depends(require("domains.stats")),
) -> Any:
    st = store(request).alerts.stats(caller.tenant_id, "domain", id)
    return object_answer(
        request,
        _STATS.format("Domain"),
        {
            "host": id,
            "organizationPrevalence": st["prevalence"],
            "orgFirstSeen": st["first"],
            "orgLastSeen": st["last"],
        },
    )


@router.get("/api/users/{id}/alerts", operation_id="users_alerts", summary="Alerts of a user (account name)")
def user_alerts(request: Request, id: str = Path(), caller: Caller = Depends(require("users.alerts"))) -> Any:
    return _related_alerts(request, caller, "user", id)


@router.get("/api/users/{id}/machines", operation_id="users_machines", summary="Machines a user logged on to")
def user_machines(
    request: Request, id: str = Path(), caller: Caller = Depends(require("users.machines"))
) -> Any:
    return _machines(request, caller, store(request).lookups.machines_of_user(caller.tenant_id, id))


@router.get("/api/investigations", operation_id="investigations_list", summary="List investigations")
def list_investigations(
    request: Request,
    caller: Caller = Depends(require("investigations.list")),
    f: str | None = FILTER,
    top: str | None = TOP,
    skip: str | None = SKIP,
    select: str | None = SELECT,
    orderby: str | None = ORDERBY,
    count: str | None = COUNT,
) -> Any:
    query = list_options(request, enums.INVESTIGATION_FIELDS, "Investigations")
    store(request).air.settle(caller.tenant_id)  # investigations started through the API move on
    items, more = store(request).lookups.investigations(caller.tenant_id, query)
    return list_answer(request, "Investigations", query, items, more)


count_route(router, list_investigations, "investigations.count")


@router.get(
    "/api/investigations/{id}",
    operation_id="investigations_get",
    summary="Get an investigation (by its id or its triggering alert's id)",
)
def get_investigation(
    request: Request, id: str = Path(), caller: Caller = Depends(require("investigations.get"))
) -> Any:
    store(request).air.settle(caller.tenant_id)
    found = store(request).lookups.investigation(caller.tenant_id, id)
    if found is None:
        raise not_found("Investigation", id)
    return entity(request, "Investigations", found)
