"""``mde actions list|get|wait|cancel``: machine actions (the portal's action center)."""

from __future__ import annotations

import typer

from mdekit.cli.common import Options, connected
from mdekit.cli.inputs import guid, positive_seconds
from mdekit.enums import ACTION_STATUS as STATUSES
from mdekit.enums import ACTION_TYPES as TYPES

app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="List, follow and cancel machine actions."
)

__all__ = ["app"]

COLUMNS = ["id", "type", "status", "computerDnsName", "requestor", "creationDateTimeUtc"]


@app.command("list")
@connected(read_only=True)
def list_(
    opts: Options,
    filter_: str = typer.Option(None, "--filter", help="OData $filter, e.g. \"type eq 'Isolate'\"."),
    machine: str = typer.Option(None, "--machine", help="Machine id."),
    type_: list[str] = typer.Option(None, "--type", help="Isolate, RunAntiVirusScan, ... (repeat or a,b)."),
    status: list[str] = typer.Option(None, "--status", help="Pending, InProgress, Succeeded, ... (repeat)."),
    since: str = typer.Option(None, "--since", help="Created within: 30m, 24h, 7d, or an ISO time."),
    top: int = typer.Option(None, "--top", min=1, help="At most this many actions (default: all, paged)."),
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
    }
    show_list(opts, lambda c: c.actions.list(**query), columns=COLUMNS, label="actions", total=top)


@app.command("get")
@connected()
def get(opts: Options, action_id: str = typer.Argument(..., help="Machine action id.")) -> None:
    """Show one machine action."""
    from mdekit.cli.listing import show_one

    checked = _ids([action_id])[0]
    show_one(opts, lambda c: c.actions.get(checked))


@app.command("wait")
@connected()
def wait(
    opts: Options,
    action_ids: list[str] = typer.Argument(..., help="Machine action id(s)."),
    timeout: float = typer.Option(
        900.0, "--timeout", callback=positive_seconds, help="Seconds to wait per action."
    ),
    interval: float = typer.Option(
        5.0, "--interval", callback=positive_seconds, help="Seconds between polls."
    ),
) -> None:
    """Follow actions until Succeeded, Failed, Cancelled or TimeOut (exit 1 unless all Succeeded)."""
    from mdekit.cli.output import emit

    checked = _ids(action_ids)
    client = opts.single().client()
    done = [client.actions.wait(a, timeout=timeout, interval=interval) for a in checked]
    emit(done, opts.fmt, columns=COLUMNS)
    if any(getattr(a, "status", None) != "Succeeded" for a in done):
        raise typer.Exit(1)


@app.command("cancel")
@connected()
def cancel(
    opts: Options,
    action_ids: list[str] = typer.Argument(..., help="Machine action id(s)."),
    comment: str = typer.Option(None, "--comment", "-m", help="Why (shown in the action center)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be cancelled; send nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before cancelling several actions."),
) -> None:
    """Cancel pending machine actions."""
    from mdekit.cli import bulk
    from mdekit.cli.output import emit

    checked = _ids(action_ids)
    target = opts.single()
    if dry_run:
        emit([{"id": a, "action": "cancel", "dryRun": True} for a in checked], opts.fmt)
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
    emit(rows, opts.fmt, columns=COLUMNS)


@app.command("package-uri")
@connected()
def package_uri(
    opts: Options, action_id: str = typer.Argument(..., help="Id of a Succeeded collect action.")
) -> None:
    """Print the short-lived download link of a collected investigation package (2 calls/min)."""
    from mdekit.cli.output import emit_one

    checked = _ids([action_id])[0]
    link = opts.single().client().actions.package_uri(checked)
    if opts.fmt == "table":
        typer.echo(link)  # the bare link: easy to copy or pipe into curl
    else:
        emit_one({"actionId": checked, "value": link}, opts.fmt)


def _ids(values: list[str]) -> list[str]:
    """Machine action ids are GUIDs: refuse anything else before a request is sent."""
    return [guid(v, "machine action id") for v in values]
