"""The option vocabulary of ``mde``: every option more than one command takes, defined once.

Each is an ``Annotated`` alias (Typer's own way to share a parameter definition): give it as a
parameter's type and the default as usual. Changing a flag, its help or its check here changes it
in every command::

    def list_(ctx: typer.Context, filter_: Filter = None, since: Since = None, top: Top = None): ...

Options that differ per command only in their example text take the alias's type with their
own ``typer.Option`` (e.g. ``--type`` choices). The connection and action-rail options are not
declared by commands at all: :mod:`mdekit.cli.common` adds them by command class.
"""

from __future__ import annotations

from typing import Annotated, Any

import typer

from mdekit.cli.inputs import positive_seconds

__all__ = [
    "AllProfiles",
    "Authority",
    "BaseUrl",
    "Ca",
    "ClientId",
    "Cloud",
    "Comment",
    "Count",
    "CsvRaw",
    "DryRun",
    "Filter",
    "FromFile",
    "Interval",
    "OrderBy",
    "Output",
    "Profile",
    "Region",
    "Select",
    "Since",
    "StateFile",
    "Targets",
    "Tenants",
    "Timeout",
    "Top",
    "Wait",
    "Yes",
]

# -- connection and output (added to every API command by its class) ------------------------------


def _from_env(*flags: str, help: str, envvar: str) -> Any:
    """An option that falls back to an environment variable (not shown in help: prose says it)."""
    return typer.Option(*flags, help=help, envvar=envvar, show_envvar=False)


Profile = Annotated[
    str | None, _from_env("--profile", "-p", help="Profile name (mde profile list).", envvar="MDEKIT_PROFILE")
]
Tenants = Annotated[
    list[str] | None,
    typer.Option(
        "--tenant", "-t", help="Tenant id or domain; listing commands take several (repeat) and fan out."
    ),
]
AllProfiles = Annotated[
    bool, typer.Option("--all-profiles", help="Run for every profile (rows tagged by profile).")
]
ClientId = Annotated[str | None, typer.Option("--client-id", help="Application (client) id.")]
Cloud = Annotated[str | None, typer.Option("--cloud", help="commercial, gcc, gcc-high, dod.")]
Region = Annotated[str | None, typer.Option("--region", help="API geo: us, eu, uk, au, ...")]
BaseUrl = Annotated[
    str | None,
    _from_env("--base-url", help="Custom API base URL (e.g. the emulator).", envvar="MDEKIT_BASE_URL"),
]
Authority = Annotated[
    str | None,
    _from_env("--authority", help="Custom login authority (e.g. the emulator).", envvar="MDEKIT_AUTHORITY"),
]
Ca = Annotated[
    str | None,
    _from_env("--ca", help="CA bundle to trust (e.g. the emulator's CA).", envvar="MDEKIT_CA_BUNDLE"),
]
Output = Annotated[
    str | None,
    typer.Option(
        "--output", "-o", help="table, json, ndjson or csv (default: table on a terminal, json when piped)."
    ),
]
CsvRaw = Annotated[
    bool,
    typer.Option("--csv-raw", help="CSV without the ' put before cells starting =, +, -, @ (formula guard)."),
]

# -- listing -----------------------------------------------------------------------------------------

Filter = Annotated[str | None, typer.Option("--filter", help="OData $filter, sent as written.")]
Since = Annotated[
    str | None,
    typer.Option("--since", help="Within the last 30m, 24h, 7d, PT12H, ... or since an ISO 8601 time."),
]
Top = Annotated[
    int | None, typer.Option("--top", min=1, help="At most this many (default: all, page after page).")
]

# OData options of the lists that page through one service list (the ``Queried`` command class adds them).
Select = Annotated[
    list[str] | None,
    typer.Option(
        "--select",
        help="Only these properties (OData $select; repeat or a,b): narrows table/CSV columns and JSON keys.",
    ),
]
OrderBy = Annotated[
    list[str] | None,
    typer.Option(
        "--order-by", help="Sort by a property: 'lastSeen' or 'lastSeen desc' (OData $orderby; repeat)."
    ),
]
Count = Annotated[
    bool,
    typer.Option("--count", help='Print how many match the filters (JSON: {"count": N}); list nothing.'),
]

# -- commands that change things (the rails) --------------------------------------------------------

Targets = Annotated[list[str] | None, typer.Argument(help="Machine ids or computer names.")]
FromFile = Annotated[
    str | None, typer.Option("--from-file", help="File of ids/names (CSV or one per line; - = stdin).")
]
Comment = Annotated[
    str | None, typer.Option("--comment", "-m", help="Why (shown in the portal's action center).")
]
DryRun = Annotated[bool, typer.Option("--dry-run", help="Show what would be done; send nothing.")]
Yes = Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before acting on several targets.")]
Wait = Annotated[
    bool, typer.Option("--wait", help="Follow each action to Succeeded/Failed/Cancelled/TimeOut.")
]
Timeout = Annotated[
    float,
    typer.Option(
        "--timeout",
        callback=positive_seconds,
        help="Seconds to wait for each action (from when it was sent).",
    ),
]
Interval = Annotated[
    float, typer.Option("--interval", callback=positive_seconds, help="Seconds between polls while waiting.")
]
StateFile = Annotated[
    str | None,
    typer.Option("--state-file", help="Resume file: targets already sent are recorded and skipped."),
]
