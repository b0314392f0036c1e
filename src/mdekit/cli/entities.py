"""``mde files|ips|domains|users ...``: look-ups and related alerts/machines."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import typer

from mdekit.cli.common import Connected, Queried, new_app, options

__all__ = ["domains_app", "files_app", "ips_app", "users_app"]

files_app = new_app("File profiles, stats and related alerts/machines.")
ips_app = new_app("IP address stats and related alerts.")
domains_app = new_app("Domain stats and related alerts/machines.")
users_app = new_app("User-related alerts and machines.")

ALERT_COLUMNS = ["id", "severity", "status", "title", "computerDnsName", "alertCreationTime"]
MACHINE_COLUMNS = ["id", "computerDnsName", "osPlatform", "healthStatus", "riskScore", "lastIpAddress"]
_LOOKBACK = typer.Option(
    None, "--lookback-hours", min=1, max=720, help="Look back this many hours (max 720)."
)


def _hash(value: str, *, sha1_only: bool = False) -> str:
    import re

    from mdekit.errors import ConfigurationError

    ok = re.fullmatch(r"[0-9a-fA-F]{40}" if sha1_only else r"[0-9a-fA-F]{40}|[0-9a-fA-F]{64}", value)
    if not ok:
        raise ConfigurationError(
            f"bad file hash {value!r}: expected a SHA-1" + ("" if sha1_only else " or SHA-256")
        )
    return value.lower()


def _ip(value: str) -> str:
    import ipaddress

    from mdekit.errors import ConfigurationError

    try:
        return str(ipaddress.ip_address(value))
    except ValueError:
        raise ConfigurationError(f"bad IP address {value!r}") from None


def _one(ctx: typer.Context, fetch: Callable[[Any], Any]) -> None:
    from mdekit.cli.listing import show_one

    show_one(options(ctx), fetch)


def _many(
    ctx: typer.Context, fetch: Callable[[Any, dict[str, Any]], Iterable[Any]], columns: list[str], label: str
) -> None:
    from mdekit.cli.listing import show_queried

    show_queried(ctx, fetch, columns=columns, label=label)


@files_app.command("get", cls=Connected)
def file_get(ctx: typer.Context, sha: str = typer.Argument(..., help="SHA-1 or SHA-256.")) -> None:
    """A file's profile."""
    h = _hash(sha)
    _one(ctx, lambda c: c.files.get(h))


@files_app.command("stats", cls=Connected)
def file_stats(
    ctx: typer.Context, sha: str = typer.Argument(..., help="SHA-1 or SHA-256."), lookback: int = _LOOKBACK
) -> None:
    """A file's prevalence in the organization."""
    h = _hash(sha)
    _one(ctx, lambda c: c.files.stats(h, lookback_hours=lookback))


@files_app.command("alerts", cls=Queried)
def file_alerts(ctx: typer.Context, sha1: str = typer.Argument(..., help="SHA-1.")) -> None:
    """Alerts related to a file."""
    h = _hash(sha1, sha1_only=True)
    _many(ctx, lambda c, q: c.files.alerts(h, **q), ALERT_COLUMNS, "alerts")


@files_app.command("machines", cls=Queried)
def file_machines(ctx: typer.Context, sha1: str = typer.Argument(..., help="SHA-1.")) -> None:
    """Machines that saw a file."""
    h = _hash(sha1, sha1_only=True)
    _many(ctx, lambda c, q: c.files.machines(h, **q), MACHINE_COLUMNS, "machines")


@ips_app.command("stats", cls=Connected)
def ip_stats(
    ctx: typer.Context, ip: str = typer.Argument(..., help="IP address."), lookback: int = _LOOKBACK
) -> None:
    """An IP address's prevalence in the organization."""
    value = _ip(ip)
    _one(ctx, lambda c: c.ips.stats(value, lookback_hours=lookback))


@ips_app.command("alerts", cls=Queried)
def ip_alerts(ctx: typer.Context, ip: str = typer.Argument(..., help="IP address.")) -> None:
    """Alerts related to an IP address."""
    value = _ip(ip)
    _many(ctx, lambda c, q: c.ips.alerts(value, **q), ALERT_COLUMNS, "alerts")


@domains_app.command("stats", cls=Connected)
def domain_stats(
    ctx: typer.Context, domain: str = typer.Argument(..., help="Domain name."), lookback: int = _LOOKBACK
) -> None:
    """A domain's prevalence in the organization."""
    _one(ctx, lambda c: c.domains.stats(domain, lookback_hours=lookback))


@domains_app.command("alerts", cls=Queried)
def domain_alerts(ctx: typer.Context, domain: str = typer.Argument(..., help="Domain name.")) -> None:
    """Alerts related to a domain."""
    _many(ctx, lambda c, q: c.domains.alerts(domain, **q), ALERT_COLUMNS, "alerts")


@domains_app.command("machines", cls=Queried)
def domain_machines(ctx: typer.Context, domain: str = typer.Argument(..., help="Domain name.")) -> None:
    """Machines that communicated with a domain."""
    _many(ctx, lambda c, q: c.domains.machines(domain, **q), MACHINE_COLUMNS, "machines")


@users_app.command("alerts", cls=Queried)
def user_alerts(
    ctx: typer.Context, user: str = typer.Argument(..., help="Account name (not the UPN).")
) -> None:
    """Alerts related to a user."""
    _many(ctx, lambda c, q: c.users.alerts(user, **q), ALERT_COLUMNS, "alerts")


@users_app.command("machines", cls=Queried)
def user_machines(
    ctx: typer.Context, user: str = typer.Argument(..., help="Account name (not the UPN).")
) -> None:
    """Machines a user logged on to."""
    _many(ctx, lambda c, q: c.users.machines(user, **q), MACHINE_COLUMNS, "machines")
