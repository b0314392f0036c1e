"""``mde alerts list|get|update`` (``update`` of many ids goes through batchUpdate)."""

from __future__ import annotations

from typing import Any

import typer

from mdekit.cli.common import Connected, Listing, new_app, options
from mdekit.cli.options import DryRun, Filter, FromFile, Since, Top, Yes
from mdekit.enums import ALERT_STATUS as STATUSES
from mdekit.enums import ALERT_UPDATE_STATUS, CLASSIFICATIONS, DETERMINATIONS, SEVERITIES

app = new_app("List, get and update alerts.")

__all__ = ["app"]

COLUMNS = ["id", "severity", "status", "title", "computerDnsName", "alertCreationTime"]
BATCH = 500  # alert ids per batchUpdate call (the API refuses more)


@app.command("list", cls=Listing)
def list_(
    ctx: typer.Context,
    filter_: Filter = None,
    since: Since = None,
    severity: list[str] = typer.Option(None, "--severity", help="High, Medium, Low, ... (repeat or a,b)."),
    status: list[str] = typer.Option(None, "--status", help="New, InProgress, Resolved (repeat or a,b)."),
    top: Top = None,
    evidence: bool = typer.Option(False, "--evidence", help="Include evidence ($expand=evidence)."),
) -> None:
    """List alerts (all pages unless --top), newest rules first as the API returns them."""
    from mdekit.cli.filters import choices, parse_since
    from mdekit.cli.listing import show_list

    query = {
        "filter": filter_,
        "since": parse_since(since),
        "severity": choices(severity, SEVERITIES, "severity"),
        "status": choices(status, STATUSES, "status"),
        "evidence": evidence,
        "limit": top,
    }
    show_list(options(ctx), lambda c: c.alerts.list(**query), columns=COLUMNS, label="alerts", total=top)


@app.command("get", cls=Connected)
def get(ctx: typer.Context, alert_id: str = typer.Argument(..., help="Alert id.")) -> None:
    """Show one alert."""
    from mdekit.cli.listing import show_one

    show_one(options(ctx), lambda c: c.alerts.get(alert_id))


@app.command("update", cls=Connected)
def update(
    ctx: typer.Context,
    alert_ids: list[str] = typer.Argument(None, help="Alert id(s)."),
    from_file: FromFile = None,
    status: str = typer.Option(None, "--status", help="New, InProgress or Resolved."),
    assigned_to: str = typer.Option(None, "--assigned-to", help="Owner (e.g. secop@contoso.com)."),
    classification: str = typer.Option(None, "--classification", help="TruePositive, FalsePositive, ..."),
    determination: str = typer.Option(None, "--determination", help="Malware, Phishing, Other, ..."),
    comment: str = typer.Option(None, "--comment", help="A comment to add."),
    dry_run: DryRun = False,
    yes: Yes = False,
) -> None:
    """Update alerts (status, owner, classification, determination, comment).

    One id: PATCH, and the updated alert is shown. Several ids (arguments and/or --from-file):
    batchUpdate, 500 ids per call.
    """
    from mdekit.cli import bulk
    from mdekit.cli.filters import choice
    from mdekit.errors import ConfigurationError

    opts = options(ctx)
    changes = {
        "status": choice(status, ALERT_UPDATE_STATUS, "status"),
        "assigned_to": assigned_to,
        "classification": choice(classification, CLASSIFICATIONS, "classification"),
        "determination": choice(determination, DETERMINATIONS, "determination"),
        "comment": comment,
    }
    changes = {k: v for k, v in changes.items() if v}
    if not changes:
        raise ConfigurationError("nothing to update: give --status, --assigned-to, --classification, ...")
    ids = bulk.read_targets(alert_ids, from_file)
    target = opts.single()
    if dry_run:
        opts.emit([{"id": i, "dryRun": True, **_wire(changes)} for i in ids])
        return
    bulk.confirm("update", len(ids), yes=yes, noun="alerts")
    client = target.client()
    if len(ids) == 1:  # PATCH answers with the updated alert: show it
        updated = client.alerts.update(ids[0], **changes)
        _audit(target.label, "alerts.update", ids[0], changes)
        opts.emit([updated], columns=COLUMNS)
        return
    opts.emit(_batch_update(client, target.label, ids, changes))


def _batch_update(client: Any, tenant: str, ids: list[str], changes: dict[str, Any]) -> list[dict[str, Any]]:
    """Many alerts through ``POST /api/alerts/batchUpdate``, 500 ids a call (the API's limit).

    The endpoint answers with no body, so each row repeats the change that was applied. A failed
    call stops the run (exit code of the error); batches already sent stay applied and audited.
    """
    rows: list[dict[str, Any]] = []
    for start in range(0, len(ids), BATCH):
        chunk = ids[start : start + BATCH]
        client.alerts.batch_update(chunk, **changes)
        for alert_id in chunk:
            _audit(tenant, "alerts.batch_update", alert_id, changes)
            rows.append({"id": alert_id, "result": "updated", **_wire(changes)})
    return rows


def _wire(changes: dict[str, Any]) -> dict[str, Any]:
    """The changes under the API's field names (``assignedTo``), as rows show them."""
    return {"assignedTo" if k == "assigned_to" else k: v for k, v in changes.items()}


def _audit(tenant: str, action: str, alert_id: str, changes: dict[str, Any]) -> None:
    from mdekit.cli import bulk

    bulk.audit({"tenant": tenant, "action": action, "target": alert_id, "changes": changes, "result": "ok"})
