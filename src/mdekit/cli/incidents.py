"""``mde incidents list|get|update|comment`` over Microsoft Graph (default) or Defender XDR (``--api xdr``).

A thin front of the client's ``incidents`` family (same default API, same ``api=`` switch). Both
APIs hold the same incidents (the emulator and the service keep them in step): XDR names them with
PascalCase values and numbers them (``incidentId``), Graph with camelCase values and string ids.
Values are checked case-insensitively and sent in the chosen API's spelling, so ``--status
resolved`` works with either.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mdekit.cli.common import Connected, Queried, list_query, new_app, options
from mdekit.cli.options import DryRun, Filter, Since, Top, Yes
from mdekit.enums import (
    GRAPH_CLASSIFICATIONS,
    GRAPH_DETERMINATIONS,
    GRAPH_INCIDENT_STATUSES,
    GRAPH_SEVERITIES,
    INCIDENT_CLASSIFICATIONS,
    INCIDENT_DETERMINATIONS,
    INCIDENT_STATUSES,
)

app = new_app("List, get, update and comment on incidents (Defender XDR or Microsoft Graph).")

__all__ = ["app"]

XDR_COLUMNS = ["incidentId", "status", "severity", "incidentName", "assignedTo", "createdTime"]
GRAPH_COLUMNS = ["id", "status", "severity", "displayName", "assignedTo", "createdDateTime"]

AssignedTo = Annotated[str | None, typer.Option("--assigned-to", help="Owner (e.g. secop@contoso.com).")]
WithAlerts = Annotated[bool, typer.Option("--alerts", help="Graph: include the alerts ($expand=alerts).")]
Api = Annotated[
    str, typer.Option("--api", help="graph (/v1.0/security; the default) or xdr (api.security.microsoft.com)")
]
IncidentId = Annotated[str, typer.Argument(help="Incident id (a number).")]


def _api(value: str) -> str:
    from mdekit.cli.filters import choice
    from mdekit.client.incidents import INCIDENT_APIS

    return choice(value, INCIDENT_APIS, "--api") or INCIDENT_APIS[0]


def _id(value: str) -> str:
    """An incident id is a number in both APIs: refuse anything else before sending."""
    from mdekit.cli.inputs import shorten
    from mdekit.errors import ConfigurationError

    if not value.strip().isdigit() or len(value.strip()) > 18:
        raise ConfigurationError(f"bad incident id {shorten(value)!r}: incident ids are numbers")
    return value.strip()


@app.command("list", cls=Queried)
def list_(
    ctx: typer.Context,
    api: Api = "graph",
    filter_: Filter = None,
    since: Since = None,
    updated_since: Annotated[
        str | None, typer.Option("--updated-since", help="Last updated within a duration or after a time.")
    ] = None,
    status: Annotated[
        list[str] | None, typer.Option("--status", help="Active, InProgress, Resolved, ... (repeat or a,b).")
    ] = None,
    severity: Annotated[
        list[str] | None, typer.Option("--severity", help="High, Medium, ... (Graph only; repeat or a,b).")
    ] = None,
    assigned_to: AssignedTo = None,
    alerts: WithAlerts = False,
    top: Top = None,
) -> None:
    """List incidents, most recent first (all pages unless --top)."""
    from mdekit.cli.filters import choices, parse_since
    from mdekit.cli.listing import show_list
    from mdekit.errors import ConfigurationError

    which = _api(api)
    xdr = which == "xdr"
    if xdr and (severity or alerts):
        flag = "--severity" if severity else "--alerts"
        raise ConfigurationError(f"{flag} needs --api graph (XDR lists filter on status, owner and times)")
    query: dict[str, Any] = {
        "api": which,
        "filter": filter_,
        "since": parse_since(since),
        "updated_since": parse_since(updated_since, option="--updated-since"),
        "status": choices(status, INCIDENT_STATUSES if xdr else GRAPH_INCIDENT_STATUSES, "status"),
        "assigned_to": assigned_to,
        "limit": top,
        **(lq := list_query(ctx)).args,
    }
    if not xdr:
        query.update(severity=choices(severity, GRAPH_SEVERITIES, "severity"), alerts=alerts)
    columns = XDR_COLUMNS if xdr else GRAPH_COLUMNS
    show_list(options(ctx), lambda c: c.incidents.list(**query), columns=columns, label="incidents",
              total=top, query=lq)  # fmt: skip


@app.command("get", cls=Connected)
def get(
    ctx: typer.Context,
    incident_id: IncidentId,
    api: Api = "graph",
    alerts: WithAlerts = False,
) -> None:
    """Show one incident (XDR answers with its alerts; Graph with --alerts)."""
    from mdekit.cli.listing import show_one
    from mdekit.errors import ConfigurationError

    which, ident = _api(api), _id(incident_id)
    if which == "xdr" and alerts:
        raise ConfigurationError("--alerts needs --api graph (XDR incidents always carry their alerts)")
    show_one(options(ctx), lambda c: c.incidents.get(ident, api=which, alerts=alerts))


@app.command("update", cls=Connected)
def update(
    ctx: typer.Context,
    incident_ids: Annotated[list[str], typer.Argument(help="Incident id(s).")],
    api: Api = "graph",
    status: Annotated[str | None, typer.Option("--status", help="Active, InProgress or Resolved.")] = None,
    assigned_to: AssignedTo = None,
    classification: Annotated[
        str | None, typer.Option("--classification", help="TruePositive, FalsePositive, ...")
    ] = None,
    determination: Annotated[
        str | None, typer.Option("--determination", help="Malware, Phishing, Other, ...")
    ] = None,
    tag: Annotated[
        list[str] | None, typer.Option("--tag", help="Tag (repeat; replaces the incident's tags).")
    ] = None,
    comment: Annotated[str | None, typer.Option("--comment", help="A comment to add.")] = None,
    dry_run: DryRun = False,
    yes: Yes = False,
) -> None:
    """Update incidents (status, owner, classification, determination, tags, comment).

    Each incident is one PATCH (with --api graph a comment is a second request); the updated
    incidents are shown.
    """
    from mdekit.cli import bulk
    from mdekit.errors import ConfigurationError

    opts = options(ctx)
    which = _api(api)
    ids = [_id(i) for i in dict.fromkeys(incident_ids)]
    changes = _changes(which, status, assigned_to, classification, determination, tag)
    if comment is not None:
        if not comment.strip():
            raise ConfigurationError("--comment: empty comment")
        changes["comment"] = comment
    if not changes:
        raise ConfigurationError("nothing to update: give --status, --assigned-to, --classification, ...")
    target = opts.single()
    if dry_run:
        opts.emit([{"id": i, "api": which, "dryRun": True, **_wire(changes, which)} for i in ids])
        return
    bulk.confirm("update", len(ids), yes=yes, noun="incidents")
    incidents = target.client().incidents
    updated = []
    for ident in ids:  # a failure stops the run; incidents already updated stay updated and audited
        updated.append(incidents.update(ident, api=which, **changes))
        bulk.audit({"tenant": target.label, "action": f"{which}.incidents.update", "target": ident,
                    "changes": changes, "result": "ok"})  # fmt: skip
    opts.emit(updated, columns=XDR_COLUMNS if which == "xdr" else GRAPH_COLUMNS)


def _changes(
    api: str,
    status: str | None,
    assigned_to: str | None,
    classification: str | None,
    determination: str | None,
    tags: list[str] | None,
) -> dict[str, Any]:
    """The update's fields in the API's spelling (values the API only reads, like ``Unknown``, refused)."""
    from mdekit.cli.filters import choice, settable

    xdr = api == "xdr"
    statuses = settable(INCIDENT_STATUSES if xdr else GRAPH_INCIDENT_STATUSES)
    classes = settable(INCIDENT_CLASSIFICATIONS if xdr else GRAPH_CLASSIFICATIONS)
    determinations = settable(INCIDENT_DETERMINATIONS if xdr else GRAPH_DETERMINATIONS)
    changes = {
        "status": choice(status, statuses, "status"),
        "assigned_to": assigned_to,
        "classification": choice(classification, classes, "classification"),
        "determination": choice(determination, determinations, "determination"),
        "tags": [t.strip() for raw in tags or [] for t in raw.split(",") if t.strip()] or None,
    }
    return {k: v for k, v in changes.items() if v}


def _wire(changes: dict[str, Any], api: str) -> dict[str, Any]:
    """The changes under the API's field names, as rows show them."""
    names = {"assigned_to": "assignedTo", "tags": "tags" if api == "xdr" else "customTags"}
    return {names.get(k, k): v for k, v in changes.items()}


@app.command("comment", cls=Connected)
def comment(
    ctx: typer.Context,
    incident_id: IncidentId,
    text: Annotated[str, typer.Argument(help="The comment.")],
    api: Api = "graph",
) -> None:
    """Add a comment to an incident and show its comments (XDR: through an update)."""
    from mdekit.cli import bulk
    from mdekit.errors import ConfigurationError

    opts = options(ctx)
    which, ident = _api(api), _id(incident_id)
    if not text.strip():
        raise ConfigurationError("empty comment")
    target = opts.single()
    comments = target.client().incidents.comment(ident, text, api=which)
    bulk.audit({"tenant": target.label, "action": f"{which}.incidents.comment", "target": ident,
                "changes": {"comment": text}, "result": "ok"})  # fmt: skip
    opts.emit(comments)
