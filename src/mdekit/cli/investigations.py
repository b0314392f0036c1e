"""``mde investigations list|get|start``: automated investigations."""

from __future__ import annotations

from typing import Any, ClassVar

import typer

from mdekit.cli.common import (
    Acting,
    Connected,
    Queried,
    action_options,
    list_query,
    new_app,
    options,
)
from mdekit.cli.options import Filter, Since, Top
from mdekit.enums import INVESTIGATION_STATES

app = new_app("List, get and start automated investigations.")

__all__ = ["app"]

COLUMNS = ["id", "state", "computerDnsName", "triggeringAlertId", "startTime", "endTime"]


@app.command("list", cls=Queried)
def list_(
    ctx: typer.Context,
    filter_: Filter = None,
    state: list[str] = typer.Option(None, "--state", help="Running, Benign, ... (repeat or a,b)."),
    machine: str = typer.Option(None, "--machine", help="Machine id."),
    alert: str = typer.Option(None, "--alert", help="Triggering alert id."),
    since: Since = None,
    top: Top = None,
) -> None:
    """List automated investigations."""
    from mdekit.cli.filters import choices, parse_since
    from mdekit.cli.listing import show_list

    query = {
        "filter": filter_,
        "state": choices(state, INVESTIGATION_STATES, "state"),
        "machine_id": machine,
        "triggering_alert_id": alert,
        "since": parse_since(since),
        "limit": top,
        **(lq := list_query(ctx)).args,
    }
    fetch = lambda c: c.investigations.list(**query)  # noqa: E731
    show_list(options(ctx), fetch, columns=COLUMNS, label="investigations", total=top, query=lq)


@app.command("get", cls=Connected)
def get(ctx: typer.Context, investigation_id: str = typer.Argument(..., help="Investigation id.")) -> None:
    """Show one investigation."""
    from mdekit.cli.listing import show_one

    show_one(options(ctx), lambda c: c.investigations.get(investigation_id))


class Starting(Acting):
    """``Acting`` without ``--wait/--timeout/--interval``: starting an investigation is one request."""

    omit: ClassVar[frozenset[str]] = frozenset({"all_profiles", "wait", "timeout", "interval"})


@app.command("start", cls=Starting)
def start(ctx: typer.Context) -> None:
    """Start an automated investigation on machines (Alert.ReadWrite.All; 50 calls/hour)."""
    from mdekit.cli import bulk
    from mdekit.cli.inputs import row_error
    from mdekit.cli.live import show_dry_run
    from mdekit.cli.machine_info import resolve
    from mdekit.cli.output import as_dict
    from mdekit.errors import AuthenticationError, MdeError, PermissionMissingError

    rails, opts = action_options(ctx), options(ctx)
    targets = rails.targets()
    target = opts.single()
    if rails.dry_run:
        show_dry_run(opts, rails, "start investigation", {})
        return
    state = bulk.StateFile(rails.state_file)
    bulk.confirm("start investigation", len(targets), yes=rails.yes)
    client = target.client()
    comment = rails.comment or "investigation started via mde CLI"
    rows, code = [], 0
    for name in targets:
        row: dict[str, Any] = {"target": name, "state": None, "investigationId": None, "error": None}
        if state.is_done(name):
            rows.append({**row, "state": "Skipped", "error": "done in an earlier run (state file)"})
            continue
        try:
            machine = resolve(client, name)
            started = as_dict(client.investigations.start(machine["id"], comment))
        except (PermissionMissingError, AuthenticationError):
            raise
        except MdeError as exc:
            rows.append({**row, "state": "Error", "error": row_error(exc, targets)})
            code = code or exc.exit_code
            bulk.audit({"tenant": target.label, "action": "start investigation", "target": name,
                        "result": f"error: {row_error(exc, targets)}"})  # fmt: skip
            continue
        state.mark(name)
        bulk.audit({"tenant": target.label, "action": "start investigation", "target": name,
                    "machineId": machine["id"], "investigationId": started.get("id"),
                    "result": str(started.get("state"))})  # fmt: skip
        rows.append({**row, "state": started.get("state"), "investigationId": started.get("id"),
                     "computerDnsName": machine.get("computerDnsName")})  # fmt: skip
    columns = ["target", "state", "investigationId", "error", "computerDnsName"]
    opts.emit(rows, columns=[c for c in columns if c != "error" or code], keep=("target", "state"))
    if code:
        raise typer.Exit(code)
