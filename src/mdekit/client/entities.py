"""Files, IP addresses, domains and users: profiles, prevalence and related alerts/machines."""

from __future__ import annotations

from mdekit.client.base import C, Family, endpoint, values
from mdekit.client.core import Call, make_call
from mdekit.models import Alert, DomainStats, File, FileStats, IpStats, Machine

__all__ = ["Domains", "Files", "Ips", "Users"]


def _lookback(hours: int | None) -> dict[str, int | None]:
    return {"lookBackHours": hours}


def _file_get(file_hash: str) -> Call[File]:
    """A file's profile by SHA-1 or SHA-256."""
    return make_call("files.get", File.model_validate, id=file_hash)


def _file_stats(file_hash: str, *, lookback_hours: int | None = None) -> Call[FileStats]:
    """A file's prevalence in the organization (``lookback_hours`` ≤ 720)."""
    return make_call("files.stats", FileStats.model_validate, params=_lookback(lookback_hours), id=file_hash)


def _file_alerts(sha1: str) -> Call[list[Alert]]:
    """Alerts related to a file (SHA-1 only; unknown file -> empty)."""
    return make_call("files.alerts", values(Alert), id=sha1)


def _file_machines(sha1: str) -> Call[list[Machine]]:
    """Machines that saw a file."""
    return make_call("files.machines", values(Machine), id=sha1)


def _ip_stats(ip: str, *, lookback_hours: int | None = None) -> Call[IpStats]:
    """An IP address's prevalence in the organization."""
    return make_call("ips.stats", IpStats.model_validate, params=_lookback(lookback_hours), id=ip)


def _ip_alerts(ip: str) -> Call[list[Alert]]:
    """Alerts related to an IP address."""
    return make_call("ips.alerts", values(Alert), id=ip)


def _domain_stats(domain: str, *, lookback_hours: int | None = None) -> Call[DomainStats]:
    """A domain's prevalence in the organization."""
    return make_call("domains.stats", DomainStats.model_validate, params=_lookback(lookback_hours), id=domain)


def _domain_alerts(domain: str) -> Call[list[Alert]]:
    """Alerts related to a domain."""
    return make_call("domains.alerts", values(Alert), id=domain)


def _domain_machines(domain: str) -> Call[list[Machine]]:
    """Machines that communicated with a domain (≤ 500)."""
    return make_call("domains.machines", values(Machine), id=domain)


def _user_alerts(user_name: str) -> Call[list[Alert]]:
    """Alerts related to a user (the account NAME, not the UPN)."""
    return make_call("users.alerts", values(Alert), id=user_name)


def _user_machines(user_name: str) -> Call[list[Machine]]:
    """Machines a user logged on to."""
    return make_call("users.machines", values(Machine), id=user_name)


class Files(Family[C]):
    """``client.files``."""

    get = endpoint(_file_get)
    stats = endpoint(_file_stats)
    alerts = endpoint(_file_alerts)
    machines = endpoint(_file_machines)


class Ips(Family[C]):
    """``client.ips``."""

    stats = endpoint(_ip_stats)
    alerts = endpoint(_ip_alerts)


class Domains(Family[C]):
    """``client.domains``."""

    stats = endpoint(_domain_stats)
    alerts = endpoint(_domain_alerts)
    machines = endpoint(_domain_machines)


class Users(Family[C]):
    """``client.users``."""

    alerts = endpoint(_user_alerts)
    machines = endpoint(_user_machines)
