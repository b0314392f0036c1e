"""``mde indicators list|add|import|delete``: custom indicators (IoCs)."""

from __future__ import annotations

from typing import Any

import typer

from mdekit.cli.common import Options, connected
from mdekit.enums import INDICATOR_ACTIONS as ACTIONS
from mdekit.enums import INDICATOR_TYPES as TYPES
from mdekit.enums import SETTABLE_SEVERITIES as SEVERITIES

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Manage custom indicators (IoCs).")

__all__ = ["app"]

COLUMNS = ["id", "indicatorType", "indicatorValue", "action", "severity", "title", "expirationTime"]
IMPORT_BATCH = 500  # the API's limit per import call


@app.command("list")
@connected(read_only=True)
def list_(
    opts: Options,
    filter_: str = typer.Option(None, "--filter", help="OData $filter, e.g. \"action eq 'Block'\"."),
    type_: list[str] = typer.Option(None, "--type", help="FileSha256, IpAddress, DomainName, Url, ..."),
    action: list[str] = typer.Option(None, "--action", help="Block, Audit, Warn, Allowed, ..."),
    severity: list[str] = typer.Option(None, "--severity", help="Informational, Low, Medium, High."),
    value: str = typer.Option(None, "--value", help="Exact indicator value."),
    top: int = typer.Option(None, "--top", min=1, help="At most this many (default: all, paged)."),
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
    }
    show_list(opts, lambda c: c.indicators.list(**query), columns=COLUMNS, label="indicators", total=top)


@app.command("add")
@connected()
def add(
    opts: Options,
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
    from mdekit.cli.output import emit_one

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
        emit_one({**body, "dryRun": True}, opts.fmt)
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
    emit_one(created, opts.fmt)


@app.command("import")
@connected()
def import_(
    opts: Options,
    file: str = typer.Argument(
        ..., help="CSV (header: indicatorValue,indicatorType,action,title,...) or JSON."
    ),
    dry_run: bool = typer.Option(False, "--dry-run", help="Check and count the file; send nothing."),
) -> None:
    """Import many indicators (batches of 500); prints one result row per indicator."""
    from mdekit.cli import bulk
    from mdekit.cli.output import emit, info

    rows = _read_indicator_file(file)
    if dry_run:
        info(f"dry run: {len(rows)} indicator(s) read and checked; nothing sent")
        emit(rows, opts.fmt, columns=["indicatorValue", "indicatorType", "action", "title"])
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
    emit(results, opts.fmt, columns=["id", "indicator", "isFailed", "failureReason"])
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


@app.command("delete")
@connected()
def delete(
    opts: Options,
    ids: list[str] = typer.Argument(None, help="Indicator id(s)."),
    from_file: str = typer.Option(None, "--from-file", help="File of ids (CSV or one per line; - = stdin)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would be deleted; send nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before deleting several indicators."),
) -> None:
    """Delete indicators by id."""
    from mdekit.cli import bulk
    from mdekit.cli.output import emit

    targets = bulk.read_targets(ids, from_file)
    if dry_run:
        emit([{"id": i, "action": "delete", "dryRun": True} for i in targets], opts.fmt)
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
    emit(rows, opts.fmt)
