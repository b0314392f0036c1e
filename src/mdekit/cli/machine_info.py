"""``mde machines logon-users|alerts|set-device-value``, and resolving names to machine ids.

The command functions are registered on the ``machines`` typer app by :mod:`mdekit.cli.machines`
(class ``Connected``; kept apart so neither module grows past a few hundred lines).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import typer

from mdekit.cli.common import options
from mdekit.cli.options import DryRun, FromFile, Targets, Yes
from mdekit.enums import ALERT_STATUS as ALERT_STATUSES
from mdekit.enums import DEVICE_VALUES

__all__ = [
    "PLAN_COLUMNS",
    "alerts",
    "dry_run_plan",
    "logon_users",
    "machine_id",
    "resolve",
    "set_device_value",
]

ALERT_COLUMNS = ["id", "severity", "status", "title", "computerDnsName", "alertCreationTime"]
USER_COLUMNS = ["accountName", "accountDomain", "logonTypes", "isDomainAdmin", "firstSeen", "lastSeen"]
VALUE_COLUMNS = ["target", "id", "deviceValue", "computerDnsName"]
PLAN_COLUMNS = ["target", "status", "action", "machineId", "error", "computerDnsName"]
_MACHINE_ID = re.compile(r"[0-9a-fA-F]{40}")


def resolve(client: Any, target: str) -> dict[str, Any]:
    """The machine *target* names (a device id or a computer name): one read-only ``GET``."""
    from mdekit.cli.output import as_dict

    return as_dict(client.machines.get(target))


def dry_run_plan(
    client: Any, targets: list[str], detail: dict[str, Any], done: Callable[[str], bool] | None = None
) -> tuple[list[dict[str, Any]], int]:
    """A dry run's rows: each target resolved to its machine (read-only GETs); nothing is changed.

    Status per row: ``WouldRun``, ``Skipped`` (*done* says an earlier run did it) or ``Error`` (e.g.
    a name that matches no machine: said now, not half-way through the real run). Returns the
    rows and the exit code (that of the first error, else 0).
    """
    from mdekit.cli.inputs import row_error
    from mdekit.errors import AuthenticationError, MdeError, PermissionMissingError

    rows: list[dict[str, Any]] = []
    code = 0
    for name in targets:
        row: dict[str, Any] = {"target": name, **detail, "dryRun": True}
        try:
            machine = resolve(client, name)
        except (PermissionMissingError, AuthenticationError):
            raise  # the same for every target: stop at once
        except MdeError as exc:
            code = code or exc.exit_code
            rows.append({**row, "status": "Error", "error": row_error(exc, targets)})
            continue
        status = "Skipped" if done and done(name) else "WouldRun"
        ids = {"machineId": machine.get("id"), "computerDnsName": machine.get("computerDnsName")}
        rows.append({**row, **ids, "status": status, "error": None})
    return rows, code


def machine_id(client: Any, target: str) -> str:
    """*target* itself when it is a device id (40 hex digits), else the id its name resolves to."""
    return target.lower() if _MACHINE_ID.fullmatch(target) else str(resolve(client, target)["id"])


def logon_users(
    ctx: typer.Context, machine: str = typer.Argument(..., help="Machine id or computer name.")
) -> None:
    """Users who logged on to a machine (User.Read.All)."""
    from mdekit.cli.listing import show_queried

    show_queried(
        ctx,
        lambda c, q: c.machines.logon_users(machine_id(c, machine), **q),
        columns=USER_COLUMNS,
        label="users",
    )


def alerts(
    ctx: typer.Context,
    machine: str = typer.Argument(..., help="Machine id or computer name."),
    status: list[str] = typer.Option(None, "--status", help="New, InProgress, Resolved (repeat or a,b)."),
) -> None:
    """Alerts raised on one machine (--count asks the service's /alerts/$count)."""
    from mdekit.cli.filters import choices
    from mdekit.cli.listing import show_queried

    wanted = choices(status, ALERT_STATUSES, "status")
    show_queried(
        ctx,
        lambda c, q: c.machines.alerts(machine_id(c, machine), status=wanted, **q),
        columns=ALERT_COLUMNS,
        label="alerts",
    )


def set_device_value(
    ctx: typer.Context,
    machines: Targets = None,
    value: str = typer.Option(..., "--value", help="Normal, Low or High (how valuable the device is)."),
    from_file: FromFile = None,
    dry_run: DryRun = False,
    yes: Yes = False,
) -> None:
    """Set the device value (Normal, Low, High) that weighs a machine's exposure score."""
    from mdekit.cli import bulk
    from mdekit.cli.filters import choice
    from mdekit.cli.output import as_dict

    opts = options(ctx)
    level = choice(value, DEVICE_VALUES, "device value")
    targets = bulk.read_targets(machines, from_file)
    target = opts.single()
    client = target.client()
    if dry_run:
        plan, code = dry_run_plan(client, targets, {"action": "set device value", "deviceValue": level})
        opts.emit(plan, columns=PLAN_COLUMNS)
        if code:
            raise typer.Exit(code)
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
        data = as_dict(updated)
        keep = ("id", "deviceValue", "computerDnsName")
        rows.append({"target": name, **{k: data.get(k) for k in keep}})
    opts.emit(rows, columns=VALUE_COLUMNS)
