"""``mde actions list|get|wait|cancel``: machine actions (the portal's action center)."""

from __future__ import annotations

import typer

from mdekit.cli.common import Connected, Queried, list_query, new_app, options
from mdekit.cli.inputs import guid
from mdekit.cli.options import DryRun, Filter, Interval, Since, Timeout, Top, Yes
from mdekit.enums import ACTION_STATUS as STATUSES
from mdekit.enums import ACTION_TYPES as TYPES

app = new_app("List, follow and cancel machine actions.")

__all__ = ["app"]

COLUMNS = ["id", "type", "status", "computerDnsName", "requestor", "creationDateTimeUtc"]


@app.command("list", cls=Queried)
def list_(
    ctx: typer.Context,
    filter_: Filter = None,
    machine: str = typer.Option(None, "--machine", help="Machine id."),
    type_: list[str] = typer.Option(None, "--type", help="Isolate, RunAntiVirusScan, ... (repeat or a,b)."),
    status: list[str] = typer.Option(None, "--status", help="Pending, InProgress, Succeeded, ... (repeat)."),
    since: Since = None,
    top: Top = None,
) -> None:
    """List machine actions."""
    from mdekit.cli.filters import choices, parse_since
    from mdekit.cli.listing import show_list

    query = {
        "filter": filter_,
        "machine_id": machine,
        "type": choices(type_, TYPES, "action type"),
        "status": choices(status, STATUSES, "status"),
        "since": parse_since(since),
        "limit": top,
        **(lq := list_query(ctx)).args,
    }
    show_list(
        options(ctx), lambda c: c.actions.list(**query), columns=COLUMNS, label="actions", total=top, query=lq
    )


@app.command("get", cls=Connected)
def get(ctx: typer.Context, action_id: str = typer.Argument(..., help="Machine action id.")) -> None:
    """Show one machine action."""
    from mdekit.cli.listing import show_one

    checked = _ids([action_id])[0]
    show_one(options(ctx), lambda c: c.actions.get(checked))


@app.command("wait", cls=Connected)
def wait(
    ctx: typer.Context,
    action_ids: list[str] = typer.Argument(..., help="Machine action id(s)."),
    timeout: Timeout = 900.0,
    interval: Interval = 5.0,
) -> None:
    """Follow actions until Succeeded, Failed, Cancelled or TimeOut (exit 1 unless all Succeeded).

    All of them are followed at once, with live status on stderr.
    """
    from mdekit.cli.acting import Followed, follow
    from mdekit.cli.monitor import Monitor
    from mdekit.cli.output import as_dict

    checked = _ids(action_ids)
    opts = options(ctx)
    client = opts.single().client()
    items = [
        Followed(a["id"], a, client.clock() + timeout)
        for a in (as_dict(client.actions.get(i)) for i in checked)
    ]
    with Monitor("wait", len(items)) as monitor:
        code = follow(client, items, interval=interval, monitor=monitor)
    opts.emit([i.action for i in items], columns=COLUMNS)
    if code or any(i.action.get("status") != "Succeeded" for i in items):
        raise typer.Exit(code or 1)


@app.command("cancel", cls=Connected)
def cancel(
    ctx: typer.Context,
    action_ids: list[str] = typer.Argument(..., help="Machine action id(s)."),
    comment: str = typer.Option(None, "--comment", "-m", help="Why (shown in the action center)."),
    dry_run: DryRun = False,
    yes: Yes = False,
) -> None:
    """Cancel pending machine actions."""
    from mdekit.cli import bulk

    checked = _ids(action_ids)
    opts = options(ctx)
    target = opts.single()
    if dry_run:
        opts.emit([{"id": a, "action": "cancel", "dryRun": True} for a in checked])
        return
    bulk.confirm("cancel", len(checked), yes=yes, noun="actions")
    client = target.client()
    rows = []
    for action_id in checked:
        row = client.actions.cancel(action_id, comment or "cancelled via mde CLI")
        bulk.audit(
            {
                "tenant": target.label,
                "action": "cancel",
                "target": action_id,
                "result": getattr(row, "status", "ok"),
            }
        )
        rows.append(row)
    opts.emit(rows, columns=COLUMNS)


@app.command("package-uri", cls=Connected)
def package_uri(
    ctx: typer.Context, action_id: str = typer.Argument(..., help="Id of a Succeeded collect action.")
) -> None:
    """Print the short-lived download link of a collected investigation package (2 calls/min)."""
    checked = _ids([action_id])[0]
    opts = options(ctx)
    link = opts.single().client().actions.package_uri(checked)
    if opts.fmt == "table":
        typer.echo(link)  # the bare link: easy to copy or pipe into curl
    else:
        opts.emit_one({"actionId": checked, "value": link})


def _ids(values: list[str]) -> list[str]:
    """Machine action ids are GUIDs: refuse anything else before a request is sent."""
    return [guid(v, "machine action id") for v in values]
