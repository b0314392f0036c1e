"""Which application permissions an app gets: presets, names, and who may grant them.

Names are app-role values: a bare name is looked up in WindowsDefenderATP first, then Microsoft
Threat Protection and Microsoft Graph (``User.Read.All`` is WindowsDefenderATP's); ``mtp:`` and
``graph:`` (or ``mde:``) prefixes pick a resource. Presets, by job:

* ``reader`` - read alerts, machines, indicators and the file/IP/URL/user profiles;
* ``responder`` - the reader's permissions, plus changing alerts, machine tags and indicators and
  every response action but offboarding and live response (those are too powerful to hand out
  by default: ask for them by name);
* ``hunter`` - the reader's permissions, plus the three advanced hunting APIs (MDE, Defender XDR,
  Microsoft Graph).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mdekit.catalog import DIRECTORY_ROLES, GRAPH, MDE, MTP, RESOURCE_ADMIN_ROLES, RESOURCES, ResourceApp
from mdekit.errors import ConfigurationError

__all__ = ["PRESETS", "Wanted", "grant_roles_needed", "missing_grant_roles", "resolve_permissions"]

_READER = (
    "Alert.Read.All",
    "Machine.Read.All",
    "Ti.Read.All",
    "File.Read.All",
    "Ip.Read.All",
    "Url.Read.All",
    "User.Read.All",
)
PRESETS: dict[str, tuple[str, ...]] = {
    "reader": _READER,
    "responder": (
        *_READER,
        "Alert.ReadWrite.All",
        "Machine.ReadWrite.All",
        "Ti.ReadWrite.All",
        "Machine.Isolate",
        "Machine.RestrictExecution",
        "Machine.Scan",
        "Machine.CollectForensics",
        "Machine.StopAndQuarantine",
    ),
    "hunter": (
        *_READER,
        "AdvancedQuery.Read.All",
        "mtp:AdvancedHunting.Read.All",
        "graph:ThreatHunting.Read.All",
    ),
}
_PREFIXES = {"mde": MDE, "wdatp": MDE, "mtp": MTP, "xdr": MTP, "graph": GRAPH}


@dataclass(frozen=True, order=True)
class Wanted:
    """One application permission to request and grant: resource and app-role value."""

    resource_name: str
    role: str

    @property
    def resource(self) -> ResourceApp:
        """The resource app."""
        return next(r for r in RESOURCES if r.name == self.resource_name)

    @property
    def role_id(self) -> str:
        """The app role's GUID (from the catalogue; the setup re-reads it from the service principal)."""
        return self.resource.role_ids[self.role]

    def __str__(self) -> str:
        return self.role if self.resource is MDE else f"{self.resource_name}: {self.role}"


def _one(name: str) -> Wanted:
    prefix, sep, rest = name.partition(":")
    if sep and prefix.strip().lower() in _PREFIXES:
        resource = _PREFIXES[prefix.strip().lower()]
        role = next((r for r in resource.roles if r.lower() == rest.strip().lower()), None)
        if role is None:
            raise ConfigurationError(f"{resource.name} has no application permission {rest.strip()!r}")
        return Wanted(resource.name, role)
    for resource in RESOURCES:
        role = next((r for r in resource.roles if r.lower() == name.lower()), None)
        if role is not None:
            return Wanted(resource.name, role)
    raise ConfigurationError(
        f"unknown application permission {name!r}; WindowsDefenderATP's are: {', '.join(MDE.roles)} "
        "(prefix mtp: or graph: for Microsoft Threat Protection or Microsoft Graph)"
    )


def resolve_permissions(names: Iterable[str] | None = None, preset: str | None = None) -> list[Wanted]:
    """The permissions asked for by ``--permissions`` (comma-separated allowed) and/or ``--preset``.

    Neither given: the ``reader`` preset.
    """
    items = [n.strip() for raw in names or () for n in raw.split(",") if n.strip()]
    if preset is not None:
        if preset not in PRESETS:
            raise ConfigurationError(f"unknown preset {preset!r}; choose one of: {', '.join(PRESETS)}")
        items = [*PRESETS[preset], *items]
    if not items:
        items = list(PRESETS["reader"])
    return sorted(dict.fromkeys(_one(n) for n in items))


def grant_roles_needed(wanted: Iterable[Wanted]) -> list[str]:
    """Directory roles that may grant all of *wanted* (the least powerful first)."""
    sets = [set(RESOURCE_ADMIN_ROLES.get(w.resource.app_id, ())) for w in wanted]
    common = set.intersection(*sets) if sets else set()
    order = ["Cloud Application Administrator", "Application Administrator", "Privileged Role Administrator",
             "Global Administrator"]  # fmt: skip
    return [r for r in order if r in common]


def missing_grant_roles(role_ids: Iterable[str], wanted: Iterable[Wanted]) -> list[str] | None:
    """``None`` when the user's roles (template ids, a token's ``wids``) may grant *wanted*; else
    the roles to ask for."""
    held = {name for name, rid in DIRECTORY_ROLES.items() if rid in set(role_ids)}
    needed = grant_roles_needed(wanted)
    return None if held & set(needed) else needed
