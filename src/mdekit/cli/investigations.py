"""``mde investigations list|get``: automated investigations."""

from __future__ import annotations

import typer

from mdekit.cli.common import Options, connected
from mdekit.enums import INVESTIGATION_STATES

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="List and get automated investigations.")

__all__ = ["app"]

COLUMNS = ["id", "state", "computerDnsName", "triggeringAlertId", "startTime", "endTime"]


@app.command("list")
@connected(read_only=True)
def list_(
    opts: Options,
    filter_: str = typer.Option(None, "--filter", help="OData $filter, e.g. \"state eq 'Running'\"."),
    state: list[str] = typer.Option(None, "--state", help="Running, Benign, ... (repeat or a,b)."),
    machine: str = typer.Option(None, "--machine", help="Machine id."),
    alert: str = typer.Option(None, "--alert", help="Triggering alert id."),
    since: str = typer.Option(None, "--since", help="Started within: 30m, 24h, 7d, or an ISO time."),
    top: int = typer.Option(None, "--top", min=1, help="At most this many (default: all, paged)."),
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
    }
    show_list(
        opts, lambda c: c.investigations.list(**query), columns=COLUMNS, label="investigations", total=top
    )


@app.command("get")
@connected()
def get(opts: Options, investigation_id: str = typer.Argument(..., help="Investigation id.")) -> None:
    """Show one investigation."""
    from mdekit.cli.listing import show_one

    show_one(opts, lambda c: c.investigations.get(investigation_id))
