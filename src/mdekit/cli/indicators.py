"""``mde indicators list|add|import|delete``: custom indicators (IoCs)."""

from __future__ import annotations

from typing import Any

import typer

from mdekit.cli.common import Connected, Queried, list_query, new_app, options
from mdekit.cli.options import DryRun, Filter, FromFile, Top, Yes
from mdekit.enums import INDICATOR_ACTIONS as ACTIONS
from mdekit.enums import INDICATOR_TYPES as TYPES
from mdekit.enums import SETTABLE_SEVERITIES as SEVERITIES

app = new_app("Manage custom indicators (IoCs).")

__all__ = ["app"]

COLUMNS = ["id", "indicatorType", "indicatorValue", "action", "severity", "title", "expirationTime"]
IMPORT_BATCH = 500  # the API's limit per import call


@app.command("list", cls=Queried)
def list_(
    ctx: typer.Context,
    filter_: Filter = None,
    type_: list[str] = typer.Option(None, "--type", help="FileSha256, IpAddress, DomainName, Url, ..."),
    action: list[str] = typer.Option(None, "--action", help="Block, Audit, Warn, Allowed, ..."),
    severity: list[str] = typer.Option(None, "--severity", help="Informational, Low, Medium, High."),
    value: str = typer.Option(None, "--value", help="Exact indicator value."),
    top: Top = None,
) -> None:
    """List indicators (an app with only Ti.ReadWrite sees the ones it created)."""
    from mdekit.cli.filters import choices
    from mdekit.cli.listing import show_list

    query = {
        "filter": filter_,
        "indicator_type": choices(type_, TYPES, "indicator type"),
        "action": choices(action, ACTIONS, "action"),
        "severity": choices(severity, SEVERITIES, "severity"),
        "value": value,
        "limit": top,
        **(lq := list_query(ctx)).args,
    }
    show_list(
        options(ctx),
        lambda c: c.indicators.list(**query),
        columns=COLUMNS,
        label="indicators",
        total=top,
        query=lq,
    )


@app.command("add", cls=Connected)
def add(
    ctx: typer.Context,
    value: str = typer.Argument(..., help="The hash, IP, domain, URL or certificate thumbprint."),
    type_: str = typer.Option(
        ..., "--type", help="FileSha1, FileSha256, FileMd5, IpAddress, DomainName, Url, ..."
    ),
    action: str = typer.Option(..., "--action", help="Block, Audit, Warn, Allowed, AlertAndBlock, ..."),
    title: str = typer.Option(..., "--title", help="Title shown in the portal."),
    description: str = typer.Option(..., "--description", help="Why this indicator exists."),
    severity: str = typer.Option(None, "--severity", help="Informational, Low, Medium, High."),
    expires: str = typer.Option(None, "--expires", help="Expiration time (ISO 8601)."),
    generate_alert: bool = typer.Option(
        None, "--generate-alert/--no-alert", help="Raise alerts (Audit needs it)."
    ),
    recommended_actions: str = typer.Option(None, "--recommended-actions", help="What analysts should do."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show the indicator; send nothing."),
) -> None:
    """Create an indicator (or update the one with the same value and type)."""
    from mdekit.cli import bulk
    from mdekit.cli.filters import choice

    opts = options(ctx)
    body: dict[str, Any] = {
        "indicatorValue": value,
        "indicatorType": choice(type_, TYPES, "indicator type"),
        "action": choice(action, ACTIONS, "action"),
        "title": title,
        "description": description,
        "severity": choice(severity, SEVERITIES, "severity"),
        "expirationTime": expires,
        "generateAlert": True if (generate_alert is None and action.lower() == "audit") else generate_alert,
        "recommendedActions": recommended_actions,
    }
    body = {k: v for k, v in body.items() if v is not None}
    if dry_run:
        opts.emit_one({**body, "dryRun": True})
        return
    target = opts.single()
    created = target.client().indicators.submit(body)
    bulk.audit(
        {
            "tenant": target.label,
            "action": "indicators.add",
            "target": value,
            "indicatorId": getattr(created, "id", None),
            "result": "ok",
        }
    )
    opts.emit_one(created)


@app.command("import", cls=Connected)
def import_(
    ctx: typer.Context,
    file: str = typer.Argument(
        ..., help="CSV (header: indicatorValue,indicatorType,action,title,...) or JSON."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and count the file; send nothing."),
) -> None:
    """Import many indicators (batches of 500); prints one result row per indicator."""
    from mdekit.cli import bulk
    from mdekit.cli.output import info

    opts = options(ctx)
    rows = _read_indicator_file(file)
    if dry_run:
        info(f"dry run: {len(rows)} indicator(s) read and checked; nothing sent")
        opts.emit(rows, columns=["indicatorValue", "indicatorType", "action", "title"])
        return
    target = opts.single()
    client = target.client()
    results: list[Any] = []
    for start in range(0, len(rows), IMPORT_BATCH):
        results += client.indicators.import_(rows[start : start + IMPORT_BATCH])
    failed = sum(1 for r in results if getattr(r, "is_failed", False))
    bulk.audit(
        {
            "tenant": target.label,
            "action": "indicators.import",
            "target": file,
            "count": len(rows),
            "result": f"{len(results) - failed} ok, {failed} failed",
        }
    )
    opts.emit(results, columns=["id", "indicator", "isFailed", "failureReason"])
    if failed:
        raise typer.Exit(1)


def _read_indicator_file(file: str) -> list[dict[str, Any]]:
    import csv
    import json

    from mdekit.cli.inputs import read_text, shorten
    from mdekit.errors import ConfigurationError

    text = read_text(file, "indicator file")
    if text.lstrip().startswith(("[", "{")):
        try:
            data = (
                json.loads(text)
                if text.lstrip().startswith("[")
                else [json.loads(ln) for ln in text.splitlines() if ln.strip()]
            )
        except ValueError as exc:
            raise ConfigurationError(f"{file}: not valid JSON/NDJSON ({exc})") from None
    else:
        data = [
            {k: v for k, v in row.items() if v not in (None, "")} for row in csv.DictReader(text.splitlines())
        ]
    if not data:  # an empty file, a header alone or []: almost surely the wrong file
        raise ConfigurationError(f"{shorten(file)}: no indicators in it (CSV with a header row, or JSON)")
    return [_check_row(file, n, row) for n, row in enumerate(data, 1)]


def _check_row(file: str, n: int, row: Any) -> dict[str, Any]:
    from mdekit.cli.filters import choice
    from mdekit.errors import ConfigurationError

    if not isinstance(row, dict):
        raise ConfigurationError(f"{file}: item {n} is not an object")
    missing = [
        k for k in ("indicatorValue", "indicatorType", "action", "title", "description") if not row.get(k)
    ]
    if missing:
        raise ConfigurationError(f"{file}: item {n} lacks {', '.join(missing)}")
    row["indicatorType"] = choice(row["indicatorType"], TYPES, f"indicatorType (item {n})")
    row["action"] = choice(row["action"], ACTIONS, f"action (item {n})")
    if isinstance(row.get("generateAlert"), str):
        row["generateAlert"] = row["generateAlert"].strip().lower() in ("true", "1", "yes")
    if row["action"] == "Audit" and "generateAlert" not in row:
        row["generateAlert"] = True  # the API refuses Audit without it; `add` does the same
    return row


@app.command("delete", cls=Connected)
def delete(
    ctx: typer.Context,
    ids: list[str] = typer.Argument(None, help="Indicator id(s)."),
    from_file: FromFile = None,
    dry_run: DryRun = False,
    yes: Yes = False,
) -> None:
    """Delete indicators by id."""
    from mdekit.cli import bulk

    opts = options(ctx)
    targets = bulk.read_targets(ids, from_file)
    if dry_run:
        opts.emit([{"id": i, "action": "delete", "dryRun": True} for i in targets])
        return
    bulk.confirm("delete", len(targets), yes=yes, noun="indicators")
    target = opts.single()
    client = target.client()
    rows = []
    for indicator_id in targets:
        client.indicators.delete(indicator_id)
        bulk.audit(
            {"tenant": target.label, "action": "indicators.delete", "target": indicator_id, "result": "ok"}
        )
        rows.append({"id": indicator_id, "deleted": True})
    opts.emit(rows)
