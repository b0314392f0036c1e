"""Clouds and regions: login host, API host and token resource for each place MDE lives.

One table, read by the client (to pick hosts and scopes), the CLI (``--cloud``/``--region``), the
doctor (to check ``aud``/``iss``) and the emulator's transparent mode (the hostnames it answers for).
Sources: service-facts.md §1.1 and §3.1.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "CLOUDS",
    "MDE_RESOURCE_APP_ID",
    "MDE_RESOURCE_URIS",
    "REGIONS",
    "Cloud",
    "all_api_hosts",
    "all_login_hosts",
    "get_cloud",
]

#: App id of the WindowsDefenderATP resource (the same in every tenant).
MDE_RESOURCE_APP_ID = "fc780465-2017-40d4-a0c5-307022471b92"

#: Identifier URIs a token for WindowsDefenderATP may carry as ``aud``.
MDE_RESOURCE_URIS: tuple[str, ...] = (
    "https://api.securitycenter.microsoft.com",
    "https://securitycenter.onmicrosoft.com/windowsatpservice",
    "https://api.security.microsoft.com",
    "https://api-gcc.securitycenter.microsoft.us",
    "https://api-gov.securitycenter.microsoft.us",
    "https://securitycenter.onmicrosoft.us/windowsatpservice",
)


@dataclass(frozen=True)
class Cloud:
    """A national cloud: where to get tokens, which resource to ask for, where the API lives."""

    name: str
    login_host: str
    api_host: str
    resource: str
    graph_host: str = "graph.microsoft.com"
    aliases: tuple[str, ...] = ()
    #: Host of the Defender XDR API (resource "Microsoft Threat Protection": hunting, incidents).
    xdr_host: str = "api.security.microsoft.com"

    @property
    def authority(self) -> str:
        """``https://<login host>`` (no tenant)."""
        return f"https://{self.login_host}"

    @property
    def scope(self) -> str:
        """The v2 scope for app-only tokens: ``<resource>/.default``."""
        return f"{self.resource}/.default"

    @property
    def api_base(self) -> str:
        """``https://<api host>`` (no ``/api``)."""
        return f"https://{self.api_host}"

    @property
    def graph_base(self) -> str:
        """``https://<graph host>``; Microsoft Graph's token resource is the same URL."""
        return f"https://{self.graph_host}"

    @property
    def xdr_base(self) -> str:
        """``https://<XDR host>``; also the token resource asked for (UNVERIFIED outside the
        commercial cloud: msticpy asks ``https://api.security.microsoft.com`` everywhere)."""
        return f"https://{self.xdr_host}"


CLOUDS: dict[str, Cloud] = {
    "commercial": Cloud(
        "commercial",
        "login.microsoftonline.com",
        "api.securitycenter.microsoft.com",
        "https://api.securitycenter.microsoft.com",
        aliases=("public", "global", "worldwide"),
    ),
    # The unified host accepts the classic resource's tokens (docs' samples do exactly that).
    "commercial-unified": Cloud(
        "commercial-unified",
        "login.microsoftonline.com",
        "api.security.microsoft.com",
        "https://api.securitycenter.microsoft.com",
        aliases=("unified",),
    ),
    # GCC logs in at the commercial host; GCC High and DoD at login.microsoftonline.us.
    "gcc": Cloud(
        "gcc",
        "login.microsoftonline.com",
        "api-gcc.securitycenter.microsoft.us",
        "https://api-gcc.securitycenter.microsoft.us",
        xdr_host="api-gcc.security.microsoft.us",
    ),
    "gcc-high": Cloud(
        "gcc-high",
        "login.microsoftonline.us",
        "api-gov.securitycenter.microsoft.us",
        "https://api-gov.securitycenter.microsoft.us",
        graph_host="graph.microsoft.us",
        aliases=("gcchigh", "usgov"),
        xdr_host="api-gov.security.microsoft.us",
    ),
    "dod": Cloud(
        "dod",
        "login.microsoftonline.us",
        "api-gov.securitycenter.microsoft.us",
        "https://api-gov.securitycenter.microsoft.us",
        graph_host="dod-graph.microsoft.us",
        xdr_host="api-gov.security.microsoft.us",
    ),
}

#: Geo hosts of the commercial cloud: region -> (current host, classic host or None).
REGIONS: dict[str, tuple[str, str | None]] = {
    "us": ("us.api.security.microsoft.com", "api-us.securitycenter.microsoft.com"),
    "eu": ("eu.api.security.microsoft.com", "api-eu.securitycenter.microsoft.com"),
    "uk": ("uk.api.security.microsoft.com", "api-uk.securitycenter.microsoft.com"),
    "au": ("au.api.security.microsoft.com", "api-au.securitycenter.microsoft.com"),
    "swa": ("swa.api.security.microsoft.com", None),
    "ina": ("ina.api.security.microsoft.com", None),
    "aea": ("aea.api.security.microsoft.com", None),
}


def get_cloud(name: str = "commercial", region: str | None = None) -> Cloud:
    """Return the cloud called *name* (or an alias), with the API host of *region* if given.

    Raises :class:`mdekit.errors.ConfigurationError` for an unknown name or region, or a region
    outside the commercial cloud.
    """
    from mdekit.errors import ConfigurationError

    key = name.strip().lower()
    cloud = CLOUDS.get(key) or next((c for c in CLOUDS.values() if key in c.aliases), None)
    if cloud is None:
        raise ConfigurationError(f"unknown cloud {name!r}; choose one of: {', '.join(CLOUDS)}")
    if region is None:
        return cloud
    if not cloud.name.startswith("commercial"):
        raise ConfigurationError(f"regions apply to the commercial cloud only, not {cloud.name!r}")
    hosts = REGIONS.get(region.strip().lower())
    if hosts is None:
        raise ConfigurationError(f"unknown region {region!r}; choose one of: {', '.join(REGIONS)}")
    return Cloud(
        f"{cloud.name}-{region.lower()}",
        cloud.login_host,
        hosts[0],
        cloud.resource,
        cloud.graph_host,
        xdr_host=cloud.xdr_host,
    )


def all_login_hosts() -> tuple[str, ...]:
    """Every login host a transparent emulator answers for (including Microsoft's aliases)."""
    hosts = {c.login_host for c in CLOUDS.values()}
    hosts |= {"login.windows.net", "login.microsoft.com", "sts.windows.net", "login-us.microsoftonline.com"}
    return tuple(sorted(hosts))


def all_api_hosts() -> tuple[str, ...]:
    """Every MDE API host (classic, unified, geo, government, legacy)."""
    hosts = {c.api_host for c in CLOUDS.values()}
    for current, classic in REGIONS.values():
        hosts.add(current)
        if classic:
            hosts.add(classic)
    hosts |= {"api.securitycenter.windows.com", "api-us3.securitycenter.microsoft.com"}
    hosts |= {"api-gcc.security.microsoft.us", "api-gov.security.microsoft.us"}
    return tuple(sorted(hosts))
