"""``mde machines logon-users|alerts|set-device-value``, and resolving names to machine ids.

The command functions are registered on the ``machines`` typer app by :mod:`mdekit.cli.machines`
(kept apart so neither module grows past a few hundred lines).
"""

from __future__ import annotations

import re
from typing import Any

import typer

from mdekit.cli.common import Options, connected

__all__ = ["alerts", "logon_users", "machine_id", "resolve", "set_device_value"]

ALERT_COLUMNS = ["id", "severity", "status", "title", "computerDnsName", "alertCreationTime"]
USER_COLUMNS = ["accountName", "accountDomain", "logonTypes", "isDomainAdmin", "firstSeen", "lastSeen"]
VALUE_COLUMNS = ["target", "id", "deviceValue", "dryRun", "computerDnsName"]
DEVICE_VALUES = ("Normal", "Low", "High")
ALERT_STATUSES = ("Unknown", "New", "InProgress", "Resolved")
_MACHINE_ID = re.compile(r"[0-9a-fA-F]{40}")


def resolve(client: Any, target: str) -> dict[str, Any]:
    """The machine *target* names (a device id or a computer name): one read-only ``GET``."""
    from mdekit.cli.output import as_dict

    return as_dict(client.machines.get(target))


def machine_id(client: Any, target: str) -> str:
    """*target* itself when it is a device id (40 hex digits), else the id its name resolves to."""
    return target.lower() if _MACHINE_ID.fullmatch(target) else str(resolve(client, target)["id"])


@connected()
def logon_users(
    opts: Options, machine: str = typer.Argument(..., help="Machine id or computer name.")
) -> None:
    """Users who logged on to a machine (User.Read.All)."""
    from mdekit.cli.output import emit

    client = opts.single().client()
    emit(client.machines.logon_users(machine_id(client, machine)), opts.fmt, columns=USER_COLUMNS)


@connected()
def alerts(
    opts: Options,
    machine: str = typer.Argument(..., help="Machine id or computer name."),
    status: list[str] = typer.Option(None, "--status", help="New, InProgress, Resolved (repeat or a,b)."),
) -> None:
    """Alerts raised on one machine."""
    from mdekit.cli.filters import choices
    from mdekit.cli.output import emit

    wanted = choices(status, ALERT_STATUSES, "status")
    client = opts.single().client()
    found = client.machines.alerts(machine_id(client, machine), status=wanted)
    emit(found, opts.fmt, columns=ALERT_COLUMNS)


@connected()
def set_device_value(
    opts: Options,
    machines: list[str] = typer.Argument(None, help="Machine ids or computer names."),
    value: str = typer.Option(..., "--value", help="Normal, Low or High (how valuable the device is)."),
    from_file: str = typer.Option(None, "--from-file", help="File of ids/names (CSV or one per line; -)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Resolve the machines; change nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before changing several machines."),
) -> None:
    """Set the device value (Normal, Low, High) that weighs a machine's exposure score."""
    from mdekit.cli import bulk
    from mdekit.cli.filters import choice
    from mdekit.cli.output import emit

    level = choice(value, DEVICE_VALUES, "device value")
    targets = bulk.read_targets(machines, from_file)
    target = opts.single()
    client = target.client()
    if dry_run:
        rows = [_value_row(name, resolve(client, name), level, dry=True) for name in targets]
        emit(rows, opts.fmt, columns=VALUE_COLUMNS)
        return
    bulk.confirm("set device value", len(targets), yes=yes)
    rows = []
    for name in targets:
        mid = machine_id(client, name)
        updated = client.machines.set_device_value(mid, level)
        bulk.audit(
            {
                "tenant": target.label,
                "action": "set device value",
                "target": name,
                "machineId": mid,
                "deviceValue": level,
                "result": "ok",
            }
        )
        rows.append(_value_row(name, updated, level, dry=False))
    emit(rows, opts.fmt, columns=VALUE_COLUMNS)


def _value_row(name: str, machine: Any, level: str | None, *, dry: bool) -> dict[str, Any]:
    from mdekit.cli.output import as_dict

    data = as_dict(machine)
    return {
        "target": name,
        "id": data.get("id"),
        "computerDnsName": data.get("computerDnsName"),
        "deviceValue": level if dry else data.get("deviceValue"),
        "dryRun": dry,
    }
