"""``mde machines list|get|find|tag`` and the machine actions (isolate, scan, offboard, ...)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import typer

from mdekit.cli import machine_info, tvm
from mdekit.cli.acting import act
from mdekit.cli.common import Acting, Connected, Listing, Queried, list_query, new_app, options
from mdekit.cli.options import DryRun, Filter, FromFile, Since, Targets, Top, Yes
from mdekit.enums import EXPOSURE_LEVELS as EXPOSURE
from mdekit.enums import HEALTH_STATUS as HEALTH
from mdekit.enums import ISOLATION_TYPES, SCAN_TYPES
from mdekit.enums import RISK_SCORES as RISK

app = new_app("Find, tag and act on machines.")

__all__ = ["app"]

COLUMNS = ["id", "computerDnsName", "osPlatform", "healthStatus", "riskScore", "lastIpAddress", "machineTags"]


@app.command("list", cls=Queried)
def list_(
    ctx: typer.Context,
    filter_: Filter = None,
    health: list[str] = typer.Option(None, "--health", help="Active, Inactive, ... (repeat or a,b)."),
    os_platform: list[str] = typer.Option(None, "--os", help="Windows10, Windows11, Linux, ... (repeat)."),
    risk: list[str] = typer.Option(None, "--risk", help="None, Informational, Low, Medium, High."),
    exposure: list[str] = typer.Option(None, "--exposure", help="None, Low, Medium, High."),
    since: Since = None,
    name: str = typer.Option(None, "--name", help="Exact computer DNS name."),
    top: Top = None,
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
        **(lq := list_query(ctx)).args,
    }
    show_list(
        options(ctx),
        lambda c: c.machines.list(**query),
        columns=COLUMNS,
        label="machines",
        total=top,
        query=lq,
    )


@app.command("get", cls=Connected)
def get(ctx: typer.Context, machine: str = typer.Argument(..., help="Machine id or computer name.")) -> None:
    """Show one machine (by id or computer name)."""
    from mdekit.cli.listing import show_one

    show_one(options(ctx), lambda c: c.machines.get(machine))


@app.command("find", cls=Listing)
def find(
    ctx: typer.Context,
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
    show_list(options(ctx), fetch, columns=COLUMNS, label="machines")


@app.command("tag", cls=Connected)
def tag(
    ctx: typer.Context,
    machines: Targets = None,
    add: str = typer.Option(None, "--add", help="Tag to add."),
    remove: str = typer.Option(None, "--remove", help="Tag to remove."),
    from_file: FromFile = None,
    dry_run: DryRun = False,
    yes: Yes = False,
) -> None:
    """Add or remove a machine tag."""
    from mdekit.cli import bulk
    from mdekit.cli.output import as_dict
    from mdekit.errors import ConfigurationError

    opts = options(ctx)
    if bool(add) == bool(remove):
        raise ConfigurationError("give exactly one of --add TAG or --remove TAG")
    targets = bulk.read_targets(machines, from_file)
    verb, value = ("add tag", add) if add else ("remove tag", remove)
    target = opts.single()
    client = target.client()
    if dry_run:
        plan, code = machine_info.dry_run_plan(client, targets, {"action": verb, "tag": value})
        opts.emit(plan, columns=machine_info.PLAN_COLUMNS)
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
    opts.emit(rows, columns=["id", "computerDnsName", "machineTags"])


app.command("logon-users", cls=Queried)(machine_info.logon_users)
app.command("alerts", cls=Queried)(machine_info.alerts)
app.command("set-device-value", cls=Connected)(machine_info.set_device_value)
tvm.register_machine_commands(app)  # vulns, software, missing-kbs, recommendations


# -- machine actions (class Acting: the rails come with it; see mdekit.cli.acting) ------------------


@app.command("isolate", cls=Acting)
def isolate(
    ctx: typer.Context,
    isolation_type: Annotated[str, typer.Option("--type", help="Full or Selective.")] = "Full",
) -> None:
    """Isolate machines from the network (Machine.Isolate)."""
    from mdekit.cli.filters import choice

    kind = choice(isolation_type, ISOLATION_TYPES, "isolation type")
    act(ctx, "isolate", lambda c, m, t: c.actions.isolate(m, t, isolation_type=kind), isolationType=kind)


@app.command("scan", cls=Acting)
def scan(
    ctx: typer.Context, scan_type: Annotated[str, typer.Option("--type", help="Quick or Full.")] = "Quick"
) -> None:
    """Run a Microsoft Defender Antivirus scan (Machine.Scan)."""
    from mdekit.cli.filters import choice

    kind = choice(scan_type, SCAN_TYPES, "scan type")
    act(ctx, "scan", lambda c, m, t: c.actions.scan(m, t, scan_type=kind), scanType=kind)


@app.command("quarantine", cls=Acting)
def quarantine(
    ctx: typer.Context,
    sha1: Annotated[str, typer.Option(..., "--sha1", help="SHA-1 of the file to stop and quarantine.")],
) -> None:
    """Stop a file's processes and quarantine it (Machine.StopAndQuarantine)."""
    import re

    from mdekit.errors import ConfigurationError

    if not re.fullmatch(r"[0-9a-fA-F]{40}", sha1):
        raise ConfigurationError(f"bad --sha1 {sha1!r}: expected 40 hex characters")
    digest = sha1.lower()
    act(ctx, "quarantine", lambda c, m, t: c.actions.quarantine(m, digest, t), sha1=digest)


def _plain_action(verb: str, doc: str) -> None:
    """Register ``mde machines <verb>``: an action whose only body field is the comment."""

    def command(ctx: typer.Context) -> None:
        act(ctx, verb, lambda c, m, t: getattr(c.actions, verb)(m, t))

    command.__name__ = command.__qualname__ = verb
    command.__doc__ = doc
    app.command(verb, cls=Acting)(command)


for _verb, _doc in (
    ("unisolate", "Release machines from isolation (Machine.Isolate)."),
    ("restrict", "Restrict app execution to Microsoft-signed code (Machine.RestrictExecution)."),
    ("unrestrict", "Remove the app-execution restriction (Machine.RestrictExecution)."),
    ("collect", "Collect an investigation package (Machine.CollectForensics)."),
    ("offboard", "Offboard machines from Defender for Endpoint (Machine.Offboard; Windows only)."),
):
    _plain_action(_verb, _doc)
