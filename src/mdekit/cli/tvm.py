"""``mde vulns|software|recommendations|score ...`` and ``mde machines vulns|software|missing-kbs|
recommendations``: threat & vulnerability management (issue 14)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import typer

from mdekit.cli.common import Connected, Listing, ListQuery, Queried, list_query, new_app, options
from mdekit.cli.options import Filter, Top
from mdekit.enums import TVM_SEVERITIES

__all__ = ["recommendations_app", "register_machine_commands", "score_app", "software_app", "vulns_app"]

vulns_app = new_app("Vulnerabilities (CVEs): list, get, exposed machines.")
software_app = new_app("Installed software: list, get, versions, machines, missing KBs.")
recommendations_app = new_app("Security recommendations: list, get, machines, vulnerabilities.")
score_app = new_app("Exposure and configuration (secure) scores.", no_args_is_help=False)

VULN_COLUMNS = ["id", "severity", "cvssV3", "exposedMachines", "publicExploit", "publishedOn", "name"]
REF_COLUMNS = ["id", "computerDnsName", "osPlatform", "rbacGroupName"]
SOFTWARE_COLUMNS = ["id", "name", "vendor", "weaknesses", "exposedMachines", "publicExploit", "impactScore"]
VERSION_COLUMNS = ["version", "installations", "vulnerabilities"]
KB_COLUMNS = ["id", "name", "machineMissedOn", "cveAddressed", "url"]
INSTALL_COLUMNS = ["deviceId", "deviceName", "softwareVendor", "softwareName", "softwareVersion"]
REC_COLUMNS = [
    "id", "severityScore", "exposedMachinesCount", "remediationType", "status", "recommendationName",
]  # fmt: skip
SCORE_COLUMNS = ["score", "value", "rbacGroupName", "time"]
_SEVERITY = typer.Option(None, "--severity", help="Low, Medium, High, Critical (repeat or a,b).")
_MACHINE = typer.Argument(..., help="Machine id or computer name.")


def _one(ctx: typer.Context, fetch: Callable[[Any], Any]) -> None:
    from mdekit.cli.listing import show_one

    show_one(options(ctx), fetch)


def _many(
    ctx: typer.Context,
    fetch: Callable[[Any], Iterable[Any]],
    columns: list[str],
    label: str,
    total: int | None = None,
    query: ListQuery | None = None,
) -> None:
    from mdekit.cli.listing import show_list

    show_list(options(ctx), fetch, columns=columns, label=label, total=total, query=query)


def _queried(
    ctx: typer.Context, fetch: Callable[[Any, dict[str, Any]], Iterable[Any]], columns: list[str], label: str
) -> None:
    from mdekit.cli.listing import show_queried

    show_queried(ctx, fetch, columns=columns, label=label)


# ---- mde vulns ------------------------------------------------------------------------------------


@vulns_app.command("list", cls=Queried)
def vulns_list(
    ctx: typer.Context,
    filter_: Filter = None,
    severity: list[str] = _SEVERITY,
    min_cvss: float = typer.Option(None, "--min-cvss", min=0, max=10, help="CVSS v3 at least this."),
    top: Top = None,
) -> None:
    """List the vulnerabilities (CVEs) TVM knows in the organization."""
    from mdekit.cli.filters import choices

    query = {
        "filter": filter_,
        "severity": choices(severity, TVM_SEVERITIES, "severity"),
        "min_cvss": min_cvss,
        **(lq := list_query(ctx)).args,
    }
    _many(ctx, lambda c: c.vulnerabilities.list(**query, limit=top), VULN_COLUMNS, "vulnerabilities", top, lq)


@vulns_app.command("get", cls=Connected)
def vulns_get(
    ctx: typer.Context, cve: str = typer.Argument(..., help="CVE id, e.g. CVE-2024-38063.")
) -> None:
    """Show one vulnerability."""
    _one(ctx, lambda c: c.vulnerabilities.get(_cve(cve)))


@vulns_app.command("machines", cls=Queried)
def vulns_machines(ctx: typer.Context, cve: str = typer.Argument(..., help="CVE id.")) -> None:
    """The machines exposed to a CVE."""
    _queried(ctx, lambda c, q: c.vulnerabilities.machines(_cve(cve), **q), REF_COLUMNS, "machines")


def _cve(text: str) -> str:
    import re

    from mdekit.errors import ConfigurationError

    if not re.fullmatch(r"CVE-\d{4}-\d{4,}", text.strip(), re.IGNORECASE):
        raise ConfigurationError(f"bad CVE id {text!r}: expected CVE-YYYY-NNNN (e.g. CVE-2024-38063)")
    return text.strip().upper()


# ---- mde software ---------------------------------------------------------------------------------


@software_app.command("list", cls=Queried)
def software_list(
    ctx: typer.Context,
    filter_: Filter = None,
    vendor: str = typer.Option(None, "--vendor", help="Vendor, e.g. microsoft."),
    name: str = typer.Option(None, "--name", help="Product name, e.g. edge."),
    top: Top = None,
) -> None:
    """List the organization's software (products)."""
    lq = list_query(ctx)
    _many(ctx, lambda c: c.software.list(filter=filter_, vendor=vendor, name=name, limit=top, **lq.args),
          SOFTWARE_COLUMNS, "software", top, lq)  # fmt: skip


_SOFTWARE = typer.Argument(..., help="Software id: vendor-_-name, e.g. microsoft-_-edge.")


@software_app.command("get", cls=Connected)
def software_get(ctx: typer.Context, software: str = _SOFTWARE) -> None:
    """Show one product."""
    _one(ctx, lambda c: c.software.get(_software_id(software)))


@software_app.command("machines", cls=Queried)
def software_machines(
    ctx: typer.Context,
    software: str = _SOFTWARE,
    below: str = typer.Option(None, "--below", help="Only machines running a version below this one."),
) -> None:
    """The machines with a product installed (--below 24.08: only those running an older version)."""
    sid = _software_id(software)
    if below:
        lq = list_query(ctx)
        if lq.select or lq.order_by or lq.count:
            from mdekit.errors import ConfigurationError

            # --below reads the inventory export, which the service cannot select, order or count
            raise ConfigurationError("--below takes no --select, --order-by or --count")
        _many(ctx, lambda c: c.software.machines_below(sid, below), INSTALL_COLUMNS, "machines")
    else:
        _queried(ctx, lambda c, q: c.software.machines(sid, **q), REF_COLUMNS, "machines")


@software_app.command("versions", cls=Queried)
def software_versions(ctx: typer.Context, software: str = _SOFTWARE) -> None:
    """A product's installed versions and how many machines run each."""
    _queried(
        ctx, lambda c, q: c.software.distributions(_software_id(software), **q), VERSION_COLUMNS, "versions"
    )


@software_app.command("missing-kbs", cls=Queried)
def software_missing_kbs(ctx: typer.Context, software: str = _SOFTWARE) -> None:
    """Security updates missing for a product."""
    _queried(ctx, lambda c, q: c.software.missing_kbs(_software_id(software), **q), KB_COLUMNS, "KBs")


@software_app.command("vulns", cls=Queried)
def software_vulns(ctx: typer.Context, software: str = _SOFTWARE) -> None:
    """The vulnerabilities of a product's installed versions."""
    _queried(
        ctx,
        lambda c, q: c.software.vulnerabilities(_software_id(software), **q),
        VULN_COLUMNS,
        "vulnerabilities",
    )


def _software_id(text: str) -> str:
    from mdekit.errors import ConfigurationError

    vendor, _, name = text.strip().partition("-_-")
    if not vendor or not name:
        raise ConfigurationError(f"bad software id {text!r}: expected vendor-_-name (e.g. microsoft-_-edge)")
    return text.strip().lower()


# ---- mde recommendations --------------------------------------------------------------------------


@recommendations_app.command("list", cls=Queried)
def recommendations_list(
    ctx: typer.Context,
    filter_: Filter = None,
    remediation_type: str = typer.Option(None, "--remediation-type", help="Update, Upgrade, Uninstall, ..."),
    status: str = typer.Option(None, "--status", help="Active or Exception."),
    top: Top = None,
) -> None:
    """List the security recommendations."""
    from mdekit.cli.filters import choice

    query = {"filter": filter_, "remediation_type": remediation_type,
             "status": choice(status, ("Active", "Exception"), "status"), **(lq := list_query(ctx)).args,
             }  # fmt: skip
    _many(ctx, lambda c: c.recommendations.list(**query, limit=top), REC_COLUMNS, "recommendations", top, lq)


_REC = typer.Argument(..., help="Recommendation id, e.g. va-_-microsoft-_-edge.")


@recommendations_app.command("get", cls=Connected)
def recommendations_get(ctx: typer.Context, recommendation: str = _REC) -> None:
    """Show one recommendation."""
    _one(ctx, lambda c: c.recommendations.get(recommendation))


@recommendations_app.command("machines", cls=Queried)
def recommendations_machines(ctx: typer.Context, recommendation: str = _REC) -> None:
    """The machines a recommendation applies to."""
    _queried(ctx, lambda c, q: c.recommendations.machines(recommendation, **q), REF_COLUMNS, "machines")


@recommendations_app.command("vulns", cls=Queried)
def recommendations_vulns(ctx: typer.Context, recommendation: str = _REC) -> None:
    """The vulnerabilities a recommendation fixes."""
    _queried(
        ctx,
        lambda c, q: c.recommendations.vulnerabilities(recommendation, **q),
        VULN_COLUMNS,
        "vulnerabilities",
    )


@recommendations_app.command("software", cls=Connected)
def recommendations_software(ctx: typer.Context, recommendation: str = _REC) -> None:
    """The product a software recommendation is about."""
    _one(ctx, lambda c: c.recommendations.software(recommendation))


# ---- mde score ------------------------------------------------------------------------------------


@score_app.command("score", cls=Listing)
def score(
    ctx: typer.Context,
    by_group: bool = typer.Option(False, "--by-group", help="The exposure score of each machine group."),
) -> None:
    """The organization's exposure score (0-100, lower is better) and configuration score
    (0-1000, higher is better); with --by-group, the exposure score of each machine group."""

    def row(kind: str, found: Any) -> dict[str, Any]:
        group = getattr(found, "rbac_group_name", None)
        return {"score": kind, "value": found.score, "rbacGroupName": group, "time": found.time}

    def rows(client: Any) -> list[dict[str, Any]]:
        if by_group:
            return [row("exposure", s) for s in client.scores.exposure_by_machine_groups()]
        exposure, configuration = client.scores.exposure(), client.scores.configuration()
        return [row("exposure", exposure), row("configuration", configuration)]

    _many(ctx, rows, SCORE_COLUMNS, "scores")


# ---- mde machines vulns|software|missing-kbs|recommendations --------------------------------------


def machine_vulns(ctx: typer.Context, machine: str = _MACHINE) -> None:
    """The vulnerabilities found on a machine."""
    _queried(ctx, lambda c, q: c.vulnerabilities.by_machine(machine, **q), VULN_COLUMNS, "vulnerabilities")


def machine_software(ctx: typer.Context, machine: str = _MACHINE) -> None:
    """The software installed on a machine."""
    _queried(ctx, lambda c, q: c.software.by_machine(machine, **q), SOFTWARE_COLUMNS, "software")


def machine_missing_kbs(ctx: typer.Context, machine: str = _MACHINE) -> None:
    """The security updates missing on a machine."""
    _queried(ctx, lambda c, q: c.software.missing_kbs_by_machine(machine, **q), KB_COLUMNS, "KBs")


def machine_recommendations(ctx: typer.Context, machine: str = _MACHINE) -> None:
    """The security recommendations for a machine."""
    _queried(ctx, lambda c, q: c.recommendations.by_machine(machine, **q), REC_COLUMNS, "recommendations")


def register_machine_commands(app: typer.Typer) -> None:
    """Add the TVM commands to ``mde machines``."""
    app.command("vulns", cls=Queried)(machine_vulns)
    app.command("software", cls=Queried)(machine_software)
    app.command("missing-kbs", cls=Queried)(machine_missing_kbs)
    app.command("recommendations", cls=Queried)(machine_recommendations)
