"""Files, IP addresses, domains and users: profiles, prevalence and related alerts/machines."""

from __future__ import annotations

from mdekit.client.base import C, Family, endpoint, listing, sub_list
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


def _ip_stats(ip: str, *, lookback_hours: int | None = None) -> Call[IpStats]:
    """An IP address's prevalence in the organization."""
    return make_call("ips.stats", IpStats.model_validate, params=_lookback(lookback_hours), id=ip)


def _domain_stats(domain: str, *, lookback_hours: int | None = None) -> Call[DomainStats]:
    """A domain's prevalence in the organization."""
    return make_call("domains.stats", DomainStats.model_validate, params=_lookback(lookback_hours), id=domain)


class Files(Family[C]):
    """``client.files``."""

    get = endpoint(_file_get)
    stats = endpoint(_file_stats)
    alerts = listing(
        sub_list("files.alerts", Alert, "Alerts related to a file (SHA-1 only; unknown file -> empty).")
    )
    machines = listing(sub_list("files.machines", Machine, "Machines that saw a file."))


class Ips(Family[C]):
    """``client.ips``."""

    stats = endpoint(_ip_stats)
    alerts = listing(sub_list("ips.alerts", Alert, "Alerts related to an IP address."))


class Domains(Family[C]):
    """``client.domains``."""

    stats = endpoint(_domain_stats)
    alerts = listing(sub_list("domains.alerts", Alert, "Alerts related to a domain."))
    machines = listing(
        sub_list("domains.machines", Machine, "Machines that communicated with a domain (≤ 500).")
    )


class Users(Family[C]):
    """``client.users``."""

    alerts = listing(
        sub_list("users.alerts", Alert, "Alerts related to a user (the account NAME, not the UPN).")
    )
    machines = listing(sub_list("users.machines", Machine, "Machines a user logged on to."))
