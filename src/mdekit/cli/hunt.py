"""``mde hunt``: run advanced-hunting (KQL) queries - inline, from a file, or a canned hunt by name.

::

    mde hunt "DeviceProcessEvents | where FileName =~ 'certutil.exe' | take 20"
    mde hunt -f query.kql --api mde -o csv > rows.csv
    mde hunt --list
    mde hunt --name processes-by-hash --param hash=0a9e44... -o json
    mde hunt --schema                       # the hunting tables
    mde hunt --schema DeviceProcessEvents   # a table's columns and types (asked of the service)

The API (Graph, MDE or XDR) is chosen from the app's permissions unless ``--api`` says; when that
choice falls back to the MDE or XDR API (being retired, MC1220762) one line on stderr says which
Graph permission to grant. ``--timespan`` (Graph) takes a duration back from now, a start time, or
``start/end``, ``P7D/end``, ``start/P7D``. A query
the service rejects (syntax, unknown column) exits 1 with the service's one-line message, which
names the line and column; usage mistakes (no query, a missing file, a bad parameter) exit 2.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import Any

import typer

from mdekit.cli.common import Listing, Options, Target, new_app, options

app = new_app("Run advanced hunting (KQL) queries.", no_args_is_help=False)

__all__ = ["app"]


@app.command(cls=Listing)
def hunt(
    ctx: typer.Context,
    query: str = typer.Argument(None, help="The KQL query (or use -f / --name)."),
    file: str = typer.Option(None, "--file", "-f", help="Read the query from this file (- = stdin)."),
    name: str = typer.Option(None, "--name", "-n", help="Run a canned hunt (see --list)."),
    param: list[str] = typer.Option(None, "--param", "-P", help="Canned hunt parameter NAME=VALUE (repeat)."),
    list_: bool = typer.Option(False, "--list", help="List the canned hunts and their parameters."),
    api: str = typer.Option(None, "--api", help="graph, mde or xdr (default: from the app's permissions)."),
    timespan: str = typer.Option(
        None,
        "--timespan",
        help="Graph only: 7d, P7D (back from now), a start time, or START/END, P7D/END, START/P7D.",
    ),
    schema: bool = typer.Option(
        False, "--schema", help="List the hunting tables; with a table name as QUERY, its columns and types."
    ),
) -> None:
    """Run a KQL query on the Graph, MDE or XDR advanced-hunting API and print the rows."""
    opts = options(ctx)
    if list_:
        opts.emit(_catalogue(), columns=["name", "parameters", "description"])
        return
    if schema:
        _schema(opts, query, file, name, api)
        return
    text = _query_text(query, file, name, param or [])
    if api is not None and api.lower() not in ("graph", "mde", "xdr"):
        from mdekit.errors import ConfigurationError

        raise ConfigurationError(f"--api must be graph, mde or xdr, not {api!r}")
    _run(opts, text, api.lower() if api else None, _timespan(timespan) if timespan else None)


def _timespan(text: str) -> timedelta | str:
    """``--timespan``: a CLI duration (``7d``, ``90m``) or any form of Graph's ``Timespan``, checked here."""
    import re

    from mdekit.cli.filters import parse_duration
    from mdekit.client.hunting import graph_timespan
    from mdekit.errors import ConfigurationError

    if "/" not in text and not re.match(r"\s*\d{4}-", text):  # a duration: the CLI's one syntax
        return parse_duration(text, option="--timespan")
    try:
        return graph_timespan(text)
    except ConfigurationError as exc:
        raise ConfigurationError(f"--timespan: {exc}") from None


def _schema(opts: Options, table: str | None, file: str | None, name: str | None, api: str | None) -> None:
    """``--schema``: the tables, or one table's columns (``TABLE | getschema``, so the service's own)."""
    from mdekit.errors import ConfigurationError
    from mdekit.hunts.schema import HUNTING_TABLES, schema_query

    if file or name:
        raise ConfigurationError("--schema takes a table name, not --file or --name")
    if table is None:
        opts.emit([{"table": t, "description": d} for t, d in HUNTING_TABLES.items()])
        return
    try:
        text = schema_query(table)
    except ValueError:
        raise ConfigurationError(f"--schema {table!r}: not a table name (e.g. DeviceProcessEvents)") from None
    if api is not None and api.lower() not in ("graph", "mde", "xdr"):
        raise ConfigurationError(f"--api must be graph, mde or xdr, not {api!r}")
    _run(opts, text, api.lower() if api else None, None)


def _catalogue() -> list[dict[str, Any]]:
    from mdekit.hunts import all_hunts

    return [
        {
            "name": hunt.name,
            "parameters": ", ".join(p.name for p in hunt.params),
            "description": hunt.description,
            "details": [
                {"name": p.name, "type": p.type, "default": p.default, "help": p.help} for p in hunt.params
            ],
        }
        for hunt in all_hunts().values()
    ]


def _query_text(query: str | None, file: str | None, name: str | None, params: list[str]) -> str:
    from mdekit.errors import ConfigurationError

    given = [flag for flag, value in (("QUERY", query), ("--file", file), ("--name", name)) if value]
    if len(given) != 1:
        raise ConfigurationError(
            "give exactly one of: a QUERY argument, --file PATH or --name HUNT"
            + (f" (got {', '.join(given)})" if given else " (mde hunt --help)")
        )
    if params and not name:
        raise ConfigurationError("--param fills a canned hunt's parameters: use it with --name")
    if name:
        from mdekit.hunts import get_hunt

        return get_hunt(name).render(_params(params))
    if file:
        return _read(file)
    return str(query)


def _params(items: list[str]) -> dict[str, str]:
    from mdekit.errors import ConfigurationError

    values: dict[str, str] = {}
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(f"--param {item!r}: expected NAME=VALUE")
        values[key.strip()] = value
    return values


def _read(file: str) -> str:
    from mdekit.cli.inputs import read_text
    from mdekit.errors import ConfigurationError

    text = read_text(file, "query file")
    if not text.strip():
        raise ConfigurationError(f"the query file {file} is empty")
    return text


def _run(opts: Options, text: str, api: str | None, timespan: timedelta | str | None) -> None:
    import warnings

    from mdekit.cli.common import fan_out
    from mdekit.cli.output import info, is_tty
    from mdekit.client.hunting import fallback_notice
    from mdekit.errors import ApiError, BadRequestError, RetiringApiWarning

    targets = opts.targets()
    opts.fmt  # noqa: B018 - a bad -o is refused before the query is sent
    columns: list[str] = []
    fell_back: set[str] = set()

    def work(target: Target) -> list[dict[str, Any]]:
        try:
            result = target.client().hunting.run(text, timespan=timespan, api=api)
        except BadRequestError as exc:
            # the service judged the query (syntax, unknown column): an API failure, exit 1
            raise ApiError(exc.message, status=exc.status, code=exc.code, target=exc.target) from None
        if not columns:
            columns.extend(result.columns)
        if api is None and result.api != "graph":
            fell_back.add(result.api)
        if is_tty(sys.stderr):
            info(f"{len(result)} rows from the {result.api} hunting API ({target.label})")
        return result.rows

    tagged = len(targets) > 1
    with warnings.catch_warnings():  # the CLI says it in one line of its own, below
        warnings.simplefilter("ignore", RetiringApiWarning)
        rows = [{"tenant": t.label, **row} if tagged else row for t, row in fan_out(targets, work)]
    for name in sorted(fell_back):
        info(f"notice: {fallback_notice(name)}")
    # a machine's name tells the reader more than its 40-digit id: it stays when columns give way
    opts.emit(
        rows,
        columns=(["tenant", *columns] if tagged else columns) or None,
        keep=[c for c in ("DeviceName",) if c in columns],
    )
