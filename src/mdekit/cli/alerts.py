"""``mde alerts list|get|update|comment`` (``update`` of many ids goes through batchUpdate).

A thin front of the client's ``alerts`` family: ``--api graph`` reads and updates the same alerts
through Microsoft Graph's ``security/alerts_v2`` (camelCase values, evidence always included, a
comment is its own request).
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mdekit.cli.common import Connected, Queried, list_query, new_app, options
from mdekit.cli.options import DryRun, Filter, FromFile, Since, Top, Yes
from mdekit.enums import ALERT_STATUS as STATUSES
from mdekit.enums import (
    ALERT_UPDATE_STATUS,
    CLASSIFICATIONS,
    DETERMINATIONS,
    GRAPH_ALERT_STATUSES,
    GRAPH_CLASSIFICATIONS,
    GRAPH_DETERMINATIONS,
    GRAPH_SEVERITIES,
    SEVERITIES,
)

app = new_app("List, get, update and comment on alerts (Defender for Endpoint or Microsoft Graph).")

__all__ = ["app"]

COLUMNS = ["id", "severity", "status", "title", "computerDnsName", "alertCreationTime"]
GRAPH_COLUMNS = ["id", "severity", "status", "title", "incidentId", "createdDateTime"]
BATCH = 500  # alert ids per batchUpdate call (the API refuses more)
Api = Annotated[str, typer.Option("--api", help="mde (the Defender for Endpoint API) or graph (alerts_v2).")]


def _api(value: str) -> str:
    from mdekit.cli.filters import choice
    from mdekit.client.alerts import ALERT_APIS

    return choice(value, ALERT_APIS, "--api") or ALERT_APIS[0]


@app.command("list", cls=Queried)
def list_(
    ctx: typer.Context,
    filter_: Filter = None,
    since: Since = None,
    severity: list[str] = typer.Option(None, "--severity", help="High, Medium, Low, ... (repeat or a,b)."),
    status: list[str] = typer.Option(None, "--status", help="New, InProgress, Resolved (repeat or a,b)."),
    top: Top = None,
    evidence: bool = typer.Option(False, "--evidence", help="Include evidence (Graph always does)."),
    api: Api = "mde",
) -> None:
    """List alerts (all pages unless --top), newest first as the API returns them."""
    from mdekit.cli.filters import choices, parse_since
    from mdekit.cli.listing import show_list

    which = _api(api)
    graph = which == "graph"
    query: dict[str, Any] = {
        "api": which,
        "filter": filter_,
        "since": parse_since(since),
        "severity": choices(severity, GRAPH_SEVERITIES if graph else SEVERITIES, "severity"),
        "status": choices(status, GRAPH_ALERT_STATUSES if graph else STATUSES, "status"),
        "limit": top,
        **(lq := list_query(ctx)).args,
    }
    if not graph:
        query["evidence"] = evidence
    columns = GRAPH_COLUMNS if graph else COLUMNS
    show_list(
        options(ctx), lambda c: c.alerts.list(**query), columns=columns, label="alerts", total=top, query=lq
    )


@app.command("get", cls=Connected)
def get(ctx: typer.Context, alert_id: str = typer.Argument(..., help="Alert id."), api: Api = "mde") -> None:
    """Show one alert."""
    from mdekit.cli.listing import show_one

    which = _api(api)
    show_one(options(ctx), lambda c: c.alerts.get(alert_id, api=which))


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
    api: Api = "mde",
) -> None:
    """Update alerts (status, owner, classification, determination, comment).

    One id: PATCH, and the updated alert is shown. Several ids (arguments and/or --from-file):
    batchUpdate, 500 ids per call. With --api graph every alert is one PATCH (Graph has no batch
    update; a comment is a second request).
    """
    from mdekit.cli import bulk
    from mdekit.cli.filters import choice, settable
    from mdekit.errors import ConfigurationError

    opts = options(ctx)
    graph = _api(api) == "graph"
    statuses = settable(GRAPH_ALERT_STATUSES) if graph else ALERT_UPDATE_STATUS
    classes = settable(GRAPH_CLASSIFICATIONS) if graph else CLASSIFICATIONS
    determinations = settable(GRAPH_DETERMINATIONS) if graph else DETERMINATIONS
    changes = {
        "status": choice(status, statuses, "status"),
        "assigned_to": assigned_to,
        "classification": choice(classification, classes, "classification"),
        "determination": choice(determination, determinations, "determination"),
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
    if graph:  # one PATCH per alert; a failure stops the run, earlier ones stay applied and audited
        updated = []
        for alert_id in ids:
            updated.append(client.alerts.update(alert_id, api="graph", **changes))
            _audit(target.label, "graph_alerts.update", alert_id, changes)
        opts.emit(updated, columns=GRAPH_COLUMNS)
        return
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


@app.command("comment", cls=Connected)
def comment(
    ctx: typer.Context,
    alert_id: Annotated[str, typer.Argument(help="Alert id.")],
    text: Annotated[str, typer.Argument(help="The comment.")],
    api: Api = "mde",
) -> None:
    """Add a comment to an alert and show its comments."""
    from mdekit.errors import ConfigurationError

    if not text.strip():
        raise ConfigurationError("empty comment")
    which = _api(api)
    opts = options(ctx)
    target = opts.single()
    comments = target.client().alerts.comment(alert_id, text, api=which)
    _audit(target.label, "graph_alerts.comment" if which == "graph" else "alerts.comment", alert_id,
           {"comment": text})  # fmt: skip
    opts.emit(comments)
