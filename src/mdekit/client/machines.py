"""Machines: list, get by id or name, find by IP or tag, tags, device value, logon users, alerts."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from mdekit.client.base import C, Family, ListCall, endpoint, listing, make_list, sub_list, values
from mdekit.client.core import Call, make_call
from mdekit.client.odata import Names, TimeLike, and_, eq, ge, to_time
from mdekit.models import Alert, DeviceAvInfo, Machine, User

__all__ = ["Machines"]


def _list(
    *,
    health_status: str | Sequence[str] | None = None,
    os_platform: str | Sequence[str] | None = None,
    risk_score: str | Sequence[str] | None = None,
    exposure_level: str | Sequence[str] | None = None,
    onboarding_status: str | None = None,
    computer_dns_name: str | None = None,
    seen_since: TimeLike | None = None,
    filter: str | None = None,
    select: Names | None = None,
    order_by: Names | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> ListCall[Machine]:
    """List machines; friendly filters are ANDed with a raw OData ``filter``."""
    flt = and_(
        [
            eq("healthStatus", health_status),
            eq("osPlatform", os_platform),
            eq("riskScore", risk_score),
            eq("exposureLevel", exposure_level),
            eq("onboardingStatus", onboarding_status),
            eq("computerDnsName", computer_dns_name),
            ge("lastSeen", seen_since),
            f"({filter})" if filter else None,
        ]
    )
    return make_list(
        "machines.list",
        Machine,
        {"$filter": flt},
        page_size=page_size,
        limit=limit,
        select=select,
        order_by=order_by,
    )


def _get(machine: str) -> Call[Machine]:
    """One machine by device id **or computer name**."""
    return make_call("machines.get", Machine.model_validate, id=machine)


def _update(
    machine_id: str, *, tags: Sequence[str] | None = None, device_value: str | None = None
) -> Call[Machine]:
    """Replace a machine's tags and/or set its device value (tags not listed are removed)."""
    body = {"machineTags": list(tags) if tags is not None else None, "deviceValue": device_value}
    return make_call(
        "machines.update",
        Machine.model_validate,
        body={k: v for k, v in body.items() if v is not None},
        id=machine_id,
    )


def _add_tag(machine_id: str, tag: str) -> Call[Machine]:
    """Add one tag to a machine."""
    return make_call(
        "machines.tags", Machine.model_validate, body={"Value": tag, "Action": "Add"}, id=machine_id
    )


def _remove_tag(machine_id: str, tag: str) -> Call[Machine]:
    """Remove one tag from a machine."""
    return make_call(
        "machines.tags", Machine.model_validate, body={"Value": tag, "Action": "Remove"}, id=machine_id
    )


def _tag_many(machine_ids: Sequence[str], tag: str, *, remove: bool = False) -> Call[list[Machine]]:
    """Add (or remove) a tag on up to 500 machines in one call."""
    body = {"Value": tag, "Action": "Remove" if remove else "Add", "MachineIds": list(machine_ids)}
    return make_call("machines.tags_bulk", values(Machine), body=body)


def _set_device_value(machine_id: str, value: str) -> Call[Machine]:
    """Set a machine's value: ``Normal``, ``Low`` or ``High``."""
    return make_call(
        "machines.set_device_value", Machine.model_validate, body={"DeviceValue": value}, id=machine_id
    )


def _find_by_ip(ip: str, timestamp: TimeLike | None = None) -> Call[list[Machine]]:
    """Machines that used *ip* within 15 minutes of *timestamp* (default: now)."""
    when = to_time(timestamp if timestamp is not None else datetime.now(UTC))
    return make_call("machines.find_by_ip", values(Machine), ip=ip, timestamp=when)


def _find_by_tag(tag: str, *, starts_with: bool = False) -> Call[list[Machine]]:
    """Machines carrying *tag* (or a tag starting with it)."""
    params = {"tag": tag, "useStartsWithFilter": starts_with}
    return make_call("machines.find_by_tag", values(Machine), params=params)


def _alerts(
    machine_id: str,
    *,
    status: str | Sequence[str] | None = None,
    filter: str | None = None,
    select: Names | None = None,
    order_by: Names | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> ListCall[Alert]:
    """Alerts of one machine; ``count()`` asks the documented ``/alerts/$count`` segment."""
    flt = and_([eq("status", status), f"({filter})" if filter else None])
    return make_list(
        "machines.alerts",
        Alert,
        {"$filter": flt},
        page_size=page_size,
        limit=limit,
        select=select,
        order_by=order_by,
        id=machine_id,
    )


def _av_health(
    *,
    os_platform: str | Sequence[str] | None = None,
    filter: str | None = None,
    select: Names | None = None,
    order_by: Names | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> ListCall[DeviceAvInfo]:
    """Microsoft Defender Antivirus health of every machine (modes, versions, last scans)."""
    flt = and_([eq("osPlatform", os_platform), f"({filter})" if filter else None])
    return make_list(
        "machines.av_health",
        DeviceAvInfo,
        {"$filter": flt},
        page_size=page_size,
        limit=limit,
        select=select,
        order_by=order_by,
    )


class Machines(Family[C]):
    """``client.machines``."""

    list = listing(_list)
    get = endpoint(_get)
    update = endpoint(_update)
    add_tag = endpoint(_add_tag)
    remove_tag = endpoint(_remove_tag)
    tag_many = endpoint(_tag_many)
    set_device_value = endpoint(_set_device_value)
    find_by_ip = endpoint(_find_by_ip)
    find_by_tag = endpoint(_find_by_tag)
    logon_users = listing(sub_list("machines.logon_users", User, "Users who logged on to a machine."))
    alerts = listing(_alerts)
    av_health = listing(_av_health)
