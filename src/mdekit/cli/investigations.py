"""``mde investigations list|get``: automated investigations."""

from __future__ import annotations

import typer

from mdekit.cli.common import Connected, Listing, new_app, options
from mdekit.cli.options import Filter, Since, Top
from mdekit.enums import INVESTIGATION_STATES

app = new_app("List and get automated investigations.")

__all__ = ["app"]

COLUMNS = ["id", "state", "computerDnsName", "triggeringAlertId", "startTime", "endTime"]


@app.command("list", cls=Listing)
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
    }
    fetch = lambda c: c.investigations.list(**query)  # noqa: E731
    show_list(options(ctx), fetch, columns=COLUMNS, label="investigations", total=top)


@app.command("get", cls=Connected)
def get(ctx: typer.Context, investigation_id: str = typer.Argument(..., help="Investigation id.")) -> None:
    """Show one investigation."""
    from mdekit.cli.listing import show_one

    show_one(options(ctx), lambda c: c.investigations.get(investigation_id))
