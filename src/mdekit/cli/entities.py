"""``mde files|ips|domains|users ...``: look-ups and related alerts/machines."""

from __future__ import annotations

import typer

from mdekit.cli.common import Options, connected

__all__ = ["domains_app", "files_app", "ips_app", "users_app"]

files_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="File profiles, stats and related alerts/machines."
)
ips_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="IP address stats and related alerts."
)
domains_app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Domain stats and related alerts/machines."
)
users_app = typer.Typer(no_args_is_help=True, rich_markup_mode=None, help="User-related alerts and machines.")

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


def _one(opts: Options, fetch: object) -> None:
    from mdekit.cli.listing import show_one

    show_one(opts, fetch)  # type: ignore[arg-type]


def _many(opts: Options, fetch: object, columns: list[str], label: str) -> None:
    from mdekit.cli.listing import show_list

    show_list(opts, fetch, columns=columns, label=label)  # type: ignore[arg-type]


@files_app.command("get")
@connected()
def file_get(opts: Options, sha: str = typer.Argument(..., help="SHA-1 or SHA-256.")) -> None:
    """A file's profile."""
    h = _hash(sha)
    _one(opts, lambda c: c.files.get(h))


@files_app.command("stats")
@connected()
def file_stats(
    opts: Options, sha: str = typer.Argument(..., help="SHA-1 or SHA-256."), lookback: int = _LOOKBACK
) -> None:
    """A file's prevalence in the organization."""
    h = _hash(sha)
    _one(opts, lambda c: c.files.stats(h, lookback_hours=lookback))


@files_app.command("alerts")
@connected(read_only=True)
def file_alerts(opts: Options, sha1: str = typer.Argument(..., help="SHA-1.")) -> None:
    """Alerts related to a file."""
    h = _hash(sha1, sha1_only=True)
    _many(opts, lambda c: c.files.alerts(h), ALERT_COLUMNS, "alerts")


@files_app.command("machines")
@connected(read_only=True)
def file_machines(opts: Options, sha1: str = typer.Argument(..., help="SHA-1.")) -> None:
    """Machines that saw a file."""
    h = _hash(sha1, sha1_only=True)
    _many(opts, lambda c: c.files.machines(h), MACHINE_COLUMNS, "machines")


@ips_app.command("stats")
@connected()
def ip_stats(
    opts: Options, ip: str = typer.Argument(..., help="IP address."), lookback: int = _LOOKBACK
) -> None:
    """An IP address's prevalence in the organization."""
    value = _ip(ip)
    _one(opts, lambda c: c.ips.stats(value, lookback_hours=lookback))


@ips_app.command("alerts")
@connected(read_only=True)
def ip_alerts(opts: Options, ip: str = typer.Argument(..., help="IP address.")) -> None:
    """Alerts related to an IP address."""
    value = _ip(ip)
    _many(opts, lambda c: c.ips.alerts(value), ALERT_COLUMNS, "alerts")


@domains_app.command("stats")
@connected()
def domain_stats(
    opts: Options, domain: str = typer.Argument(..., help="Domain name."), lookback: int = _LOOKBACK
) -> None:
    """A domain's prevalence in the organization."""
    _one(opts, lambda c: c.domains.stats(domain, lookback_hours=lookback))


@domains_app.command("alerts")
@connected(read_only=True)
def domain_alerts(opts: Options, domain: str = typer.Argument(..., help="Domain name.")) -> None:
    """Alerts related to a domain."""
    _many(opts, lambda c: c.domains.alerts(domain), ALERT_COLUMNS, "alerts")


@domains_app.command("machines")
@connected(read_only=True)
def domain_machines(opts: Options, domain: str = typer.Argument(..., help="Domain name.")) -> None:
    """Machines that communicated with a domain."""
    _many(opts, lambda c: c.domains.machines(domain), MACHINE_COLUMNS, "machines")


@users_app.command("alerts")
@connected(read_only=True)
def user_alerts(opts: Options, user: str = typer.Argument(..., help="Account name (not the UPN).")) -> None:
    """Alerts related to a user."""
    _many(opts, lambda c: c.users.alerts(user), ALERT_COLUMNS, "alerts")


@users_app.command("machines")
@connected(read_only=True)
def user_machines(opts: Options, user: str = typer.Argument(..., help="Account name (not the UPN).")) -> None:
    """Machines a user logged on to."""
    _many(opts, lambda c: c.users.machines(user), MACHINE_COLUMNS, "machines")
