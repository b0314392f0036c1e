"""``mde machines list|get|find|tag`` and the machine actions (isolate, scan, offboard, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import typer

from mdekit.cli import machine_info
from mdekit.cli.common import Options, connected
from mdekit.cli.inputs import positive_seconds
from mdekit.enums import EXPOSURE_LEVELS as EXPOSURE
from mdekit.enums import HEALTH_STATUS as HEALTH
from mdekit.enums import ISOLATION_TYPES, SCAN_TYPES
from mdekit.enums import RISK_SCORES as RISK

app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="Find, tag and act on machines.")

__all__ = ["app"]

COLUMNS = ["id", "computerDnsName", "osPlatform", "healthStatus", "riskScore", "lastIpAddress", "machineTags"]


@app.command("list")
@connected(read_only=True)
def list_(
    opts: Options,
    filter_: str = typer.Option(None, "--filter", help="OData $filter, e.g. \"riskScore eq 'High'\"."),
    health: list[str] = typer.Option(None, "--health", help="Active, Inactive, ... (repeat or a,b)."),
    os_platform: list[str] = typer.Option(None, "--os", help="Windows10, Windows11, Linux, ... (repeat)."),
    risk: list[str] = typer.Option(None, "--risk", help="None, Informational, Low, Medium, High."),
    exposure: list[str] = typer.Option(None, "--exposure", help="None, Low, Medium, High."),
    since: str = typer.Option(None, "--since", help="Seen within: 30m, 24h, 7d, or an ISO time."),
    name: str = typer.Option(None, "--name", help="Exact computer DNS name."),
    top: int = typer.Option(None, "--top", min=1, help="At most this many machines (default: all, paged)."),
) -> None:
    """List machines (all pages unless --top)."""
    from mdekit.cli.filters import choices, parse_since
    from mdekit.cli.listing import show_list

    query = {
        "filter": filter_,
        "health_status": choices(health, HEALTH, "health status"),
        "os_platform": [p for v in os_platform for p in v.split(",") if p] if os_platform else None,
        "risk_score": choices(risk, RISK, "risk score"),
        "exposure_level": choices(exposure, EXPOSURE, "exposure level"),
        "seen_since": parse_since(since),
        "computer_dns_name": name,
        "limit": top,
    }
    show_list(opts, lambda c: c.machines.list(**query), columns=COLUMNS, label="machines", total=top)


@app.command("get")
@connected()
def get(opts: Options, machine: str = typer.Argument(..., help="Machine id or computer name.")) -> None:
    """Show one machine (by id or computer name)."""
    from mdekit.cli.listing import show_one

    show_one(opts, lambda c: c.machines.get(machine))


@app.command("find")
@connected(read_only=True)
def find(
    opts: Options,
    ip: str = typer.Option(None, "--ip", help="Machines that used this IP address..."),
    at: str = typer.Option(None, "--at", help="...around this time (ISO or 24h ago; default now)."),
    tag: str = typer.Option(None, "--tag", help="Machines with this tag."),
    starts_with: bool = typer.Option(False, "--starts-with", help="Match tags that start with --tag."),
) -> None:
    """Find machines by IP address (at a time) or by tag."""
    import ipaddress

    from mdekit.cli.filters import parse_since
    from mdekit.cli.listing import show_list
    from mdekit.errors import ConfigurationError

    if bool(ip) == bool(tag):
        raise ConfigurationError("give exactly one of --ip or --tag")
    if ip:
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise ConfigurationError(f"bad --ip {ip!r}: not an IP address") from None
        when = parse_since(at, option="--at")
        fetch: Callable[[Any], Any] = lambda c: c.machines.find_by_ip(ip, when)  # noqa: E731
    else:
        fetch = lambda c: c.machines.find_by_tag(tag, starts_with=starts_with)  # noqa: E731
    show_list(opts, fetch, columns=COLUMNS, label="machines")


@app.command("tag")
@connected()
def tag(
    opts: Options,
    machines: list[str] = typer.Argument(None, help="Machine ids or computer names."),
    add: str = typer.Option(None, "--add", help="Tag to add."),
    remove: str = typer.Option(None, "--remove", help="Tag to remove."),
    from_file: str = typer.Option(None, "--from-file", help="File of ids/names (CSV or one per line; -)."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Show what would change; send nothing."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask before tagging several machines."),
) -> None:
    """Add or remove a machine tag."""
    from mdekit.cli import bulk
    from mdekit.cli.output import as_dict, emit
    from mdekit.errors import ConfigurationError

    if bool(add) == bool(remove):
        raise ConfigurationError("give exactly one of --add TAG or --remove TAG")
    targets = bulk.read_targets(machines, from_file)
    verb, value = ("add tag", add) if add else ("remove tag", remove)
    target = opts.single()
    client = target.client()
    if dry_run:
        plan, code = machine_info.dry_run_plan(client, targets, {"action": verb, "tag": value})
        emit(plan, opts.fmt, columns=machine_info.PLAN_COLUMNS)
        if code:
            raise typer.Exit(code)
        return
    bulk.confirm(verb, len(targets), yes=yes)
    rows = []
    for name in targets:
        machine_id = as_dict(client.machines.get(name))["id"]
        updated = (
            client.machines.add_tag(machine_id, value)
            if add
            else client.machines.remove_tag(machine_id, value)
        )
        bulk.audit(
            {
                "tenant": target.label,
                "action": verb,
                "target": name,
                "machineId": machine_id,
                "tag": value,
                "result": "ok",
            }
        )
        rows.append(updated)
    emit(rows, opts.fmt, columns=["id", "computerDnsName", "machineTags"])


app.command("logon-users")(machine_info.logon_users)
app.command("alerts")(machine_info.alerts)
app.command("set-device-value")(machine_info.set_device_value)


# -- machine actions --------------------------------------------------------------------------------

_TARGETS = typer.Argument(None, help="Machine ids or computer names.")
_FROM_FILE = typer.Option(None, "--from-file", help="File of ids/names (CSV or one per line; - = stdin).")
_COMMENT = typer.Option(None, "--comment", "-m", help="Why (shown in the portal's action center).")
_DRY = typer.Option(False, "--dry-run", help="Show what would be done; send nothing.")
_YES = typer.Option(False, "--yes", "-y", help="Do not ask before acting on several machines.")
_WAIT = typer.Option(False, "--wait", help="Follow each action to Succeeded/Failed/Cancelled/TimeOut.")
_TIMEOUT = typer.Option(
    900.0, "--timeout", callback=positive_seconds, help="Seconds --wait waits per action."
)
_INTERVAL = typer.Option(
    5.0, "--interval", callback=positive_seconds, help="Seconds between polls with --wait."
)
_STATE = typer.Option(None, "--state-file", help="Resume file: machines done are recorded and skipped.")


def _act(
    opts: Options,
    verb: str,
    call: Callable[[Any, str, str], Any],
    machines: list[str] | None,
    from_file: str | None,
    comment: str | None,
    dry_run: bool,
    yes: bool,
    wait: bool,
    timeout: float,
    interval: float,
    state_file: str | None,
    **detail: Any,
) -> None:
    from mdekit.cli import bulk
    from mdekit.cli.acting import ActionRequest, run_action

    text = comment or f"{verb} via mde CLI"
    req = ActionRequest(
        verb,
        lambda client, mid: call(client, mid, text),
        bulk.read_targets(machines, from_file),
        dry_run,
        yes,
        wait,
        timeout,
        interval,
        state_file,
        {k: v for k, v in detail.items() if v} or None,
    )
    code = run_action(opts, req)
    if code:
        raise typer.Exit(code)


@app.command("isolate")
@connected()
def isolate(
    opts: Options,
    machines: list[str] = _TARGETS,
    from_file: str = _FROM_FILE,
    comment: str = _COMMENT,
    isolation_type: str = typer.Option("Full", "--type", help="Full or Selective."),
    dry_run: bool = _DRY,
    yes: bool = _YES,
    wait: bool = _WAIT,
    timeout: float = _TIMEOUT,
    interval: float = _INTERVAL,
    state_file: str = _STATE,
) -> None:
    """Isolate machines from the network (Machine.Isolate)."""
    from mdekit.cli.filters import choice

    kind = choice(isolation_type, ISOLATION_TYPES, "isolation type")
    _act(
        opts,
        "isolate",
        lambda c, m, t: c.actions.isolate(m, t, isolation_type=kind),
        machines,
        from_file,
        comment,
        dry_run,
        yes,
        wait,
        timeout,
        interval,
        state_file,
        isolationType=kind,
    )


@app.command("scan")
@connected()
def scan(
    opts: Options,
    machines: list[str] = _TARGETS,
    from_file: str = _FROM_FILE,
    comment: str = _COMMENT,
    scan_type: str = typer.Option("Quick", "--type", help="Quick or Full."),
    dry_run: bool = _DRY,
    yes: bool = _YES,
    wait: bool = _WAIT,
    timeout: float = _TIMEOUT,
    interval: float = _INTERVAL,
    state_file: str = _STATE,
) -> None:
    """Run a Microsoft Defender Antivirus scan (Machine.Scan)."""
    from mdekit.cli.filters import choice

    kind = choice(scan_type, SCAN_TYPES, "scan type")
    _act(
        opts,
        "scan",
        lambda c, m, t: c.actions.scan(m, t, scan_type=kind),
        machines,
        from_file,
        comment,
        dry_run,
        yes,
        wait,
        timeout,
        interval,
        state_file,
        scanType=kind,
    )


@app.command("quarantine")
@connected()
def quarantine(
    opts: Options,
    machines: list[str] = _TARGETS,
    from_file: str = _FROM_FILE,
    comment: str = _COMMENT,
    sha1: str = typer.Option(..., "--sha1", help="SHA-1 of the file to stop and quarantine."),
    dry_run: bool = _DRY,
    yes: bool = _YES,
    wait: bool = _WAIT,
    timeout: float = _TIMEOUT,
    interval: float = _INTERVAL,
    state_file: str = _STATE,
) -> None:
    """Stop a file's processes and quarantine it (Machine.StopAndQuarantine)."""
    import re

    from mdekit.errors import ConfigurationError

    if not re.fullmatch(r"[0-9a-fA-F]{40}", sha1):
        raise ConfigurationError(f"bad --sha1 {sha1!r}: expected 40 hex characters")
    _act(
        opts,
        "quarantine",
        lambda c, m, t: c.actions.quarantine(m, sha1.lower(), t),
        machines,
        from_file,
        comment,
        dry_run,
        yes,
        wait,
        timeout,
        interval,
        state_file,
        sha1=sha1.lower(),
    )


def _plain_action(verb: str, doc: str) -> None:
    """Register ``mde machines <verb>``: an action whose only body field is the comment."""

    def command(
        opts: Options,
        machines: list[str] = _TARGETS,
        from_file: str = _FROM_FILE,
        comment: str = _COMMENT,
        dry_run: bool = _DRY,
        yes: bool = _YES,
        wait: bool = _WAIT,
        timeout: float = _TIMEOUT,
        interval: float = _INTERVAL,
        state_file: str = _STATE,
    ) -> None:
        _act(
            opts,
            verb,
            lambda c, m, t: getattr(c.actions, verb)(m, t),
            machines,
            from_file,
            comment,
            dry_run,
            yes,
            wait,
            timeout,
            interval,
            state_file,
        )

    command.__name__ = command.__qualname__ = verb
    command.__doc__ = doc
    app.command(verb)(connected()(command))


for _verb, _doc in (
    ("unisolate", "Release machines from isolation (Machine.Isolate)."),
    ("restrict", "Restrict app execution to Microsoft-signed code (Machine.RestrictExecution)."),
    ("unrestrict", "Remove the app-execution restriction (Machine.RestrictExecution)."),
    ("collect", "Collect an investigation package (Machine.CollectForensics)."),
    ("offboard", "Offboard machines from Defender for Endpoint (Machine.Offboard; Windows only)."),
):
    _plain_action(_verb, _doc)
