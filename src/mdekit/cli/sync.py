"""``mde sync``: keep a database current with Defender, exactly once (:mod:`mdekit.sync`).

``mde sync --to SINK [--profile P | --tenant T ... | --all-profiles] [--entities alerts,machines,
incidents,vulnerabilities,hunting:NAME] [--interval 5m | --once] [--since 30d]`` runs passes (a
backfill first, then changes only); ``mde sync status --to SINK`` shows per tenant and entity the records, the
newest version, whether a pass is in progress and the lag (how old the data of the last
complete pass is).
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import typer

from mdekit.cli.common import Listing, new_app, options
from mdekit.cli.options import Since
from mdekit.errors import ConfigurationError

app = new_app("Keep a database current with Defender, exactly once.", no_args_is_help=False)

__all__ = ["app"]

_RESULT_COLUMNS = ["tenant", "entity", "pages", "records", "changed"]
_STATUS_COLUMNS = ["tenant", "entity", "records", "newest", "pass", "inProgress", "lastCompleteAt", "lag"]


@app.command("sync", cls=Listing)
def sync(
    ctx: typer.Context,
    action: str | None = typer.Argument(None, help="status: show progress and per-tenant lag instead."),
    to: str = typer.Option(
        ..., "--to", help="sqlite:///FILE, duckdb:///FILE, postgresql://..., ndjson:///DIR or parquet:///DIR."
    ),
    entities: str | None = typer.Option(
        None,
        "--entities",
        help="Comma-separated: alerts, machines, incidents, vulnerabilities, hunting:NAME "
        "(a canned hunt, NAME?param=value&..., or a .kql file).",
    ),
    interval: str | None = typer.Option(
        None, "--interval", help="Run a pass every 5m, 1h, ... until stopped."
    ),
    once: bool = typer.Option(False, "--once", help="One pass of every entity, then exit (the default)."),
    since: Since = None,
) -> None:
    """Copy alerts, machines and incidents into a store; backfill, then changes only."""
    from mdekit.cli.filters import parse_duration, parse_since
    from mdekit.sync.entities import parse_entities
    from mdekit.sync.sinks import open_sink

    if action not in (None, "status"):
        raise ConfigurationError(f"unknown action {action!r}: use `mde sync --to SINK` or `mde sync status`")
    if interval and once:
        raise ConfigurationError("give --interval or --once, not both")
    opts = options(ctx)
    every = parse_duration(interval, option="--interval").total_seconds() if interval else None
    chosen = parse_entities(entities)
    floor = parse_since(since)
    sink = open_sink(to)
    try:
        if action == "status":
            opts.emit(_status_rows(sink.status()), columns=_STATUS_COLUMNS)
            return
        _run(opts, sink, chosen, floor, every)
    finally:
        sink.close()


def _run(opts: Any, sink: Any, entities: list[Any], since: dt.datetime | None, every: float | None) -> None:
    from mdekit.sync.engine import Syncer
    from mdekit.sync.source import Source

    sources = [Source(t.profile.tenant or t.label, t.client()) for t in opts.targets()]
    syncer = Syncer(sink, sources, entities, since=since)
    while True:
        results = syncer.run_once()
        opts.emit(
            [{"tenant": r.tenant, "entity": r.entity, "pages": r.pages, "records": r.records,
              "changed": r.changed} for r in results],
            columns=_RESULT_COLUMNS,
        )  # fmt: skip
        if every is None:
            return
        time.sleep(every)


def _status_rows(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    now = dt.datetime.now(dt.UTC)
    out = []
    for row in rows:
        cp = row["checkpoint"]
        start = cp.get("lastCompleteStart")
        lag = None
        if start:
            seconds = (now - dt.datetime.fromisoformat(start.replace("Z", "+00:00"))).total_seconds()
            lag = f"{max(seconds, 0) / 60:.1f}m"
        out.append(
            {"tenant": row["tenant"], "entity": row["entity"], "records": row["records"],
             "newest": row["newest"], "pass": cp.get("pass"), "inProgress": cp.get("token") is not None,
             "lastCompleteAt": cp.get("lastCompleteAt"), "lag": lag}
        )  # fmt: skip
    return out
