"""Advanced hunting (KQL) against any of the three APIs that serve it.

=========  ===============================================  ========================  ========================
``api``    endpoint                                         resource (token audience)  application permission
=========  ===============================================  ========================  ========================
``graph``  ``POST graph.microsoft.com/v1.0/security/        Microsoft Graph           ThreatHunting.Read.All
           runHuntingQuery`` body ``{"Query","Timespan"}``
``mde``    ``POST <MDE host>/api/advancedqueries/run``      WindowsDefenderATP        AdvancedQuery.Read.All
           body ``{"Query"}``
``xdr``    ``POST api.security.microsoft.com/api/           Microsoft Threat          AdvancedHunting.Read.All
           advancedhunting/run`` body ``{"Query"}``          Protection
=========  ===============================================  ========================  ========================

``api=None`` picks one from the tokens' roles: Graph (Microsoft's recommended API) when its token
has ThreatHunting.Read.All, else MDE when the Defender token has AdvancedQuery.Read.All, else XDR;
the choice is remembered in :attr:`Hunting.api`. With a custom ``base_url`` (the emulator, a proxy)
all three APIs are sent to that host. Calls run through the client's request flow, so throttling
(429 for the call quota or the CPU quota) is retried under the client's :class:`RetryPolicy`.

::

    result = client.hunting.run("DeviceProcessEvents | where FileName =~ 'certutil.exe' | take 10",
                                timespan="P7D")
    for row in result: print(row["DeviceName"])
    frame = result.to_pandas()
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from mdekit.catalog import GRAPH, MDE, MTP, Operation, operation
from mdekit.client.core import Call
from mdekit.client.flow import call_flow
from mdekit.client.hunting_result import HuntingColumn, HuntingResult, parse_result
from mdekit.client.tokens import AsyncTokenProvider, TokenProvider
from mdekit.client.transport import AsyncEngine, SyncEngine
from mdekit.clouds import CLOUDS, all_api_hosts
from mdekit.errors import ConfigurationError, MdeError, PermissionMissingError

if TYPE_CHECKING:
    from mdekit.client.defender import AsyncDefender, Defender

__all__ = [
    "APIS",
    "AsyncHunting",
    "Hunting",
    "HuntingColumn",
    "HuntingResult",
    "build_call",
    "choose_api",
    "endpoints",
    "iso_duration",
]

#: API name -> (catalogue operation, the role it needs, resource display name), in preference order.
APIS: dict[str, tuple[str, str, str]] = {
    "graph": ("hunting.run_graph", "ThreatHunting.Read.All", GRAPH.name),
    "mde": ("hunting.run", "AdvancedQuery.Read.All", MDE.name),
    "xdr": ("hunting.run_xdr", "AdvancedHunting.Read.All", MTP.name),
}
_XDR_HOSTS = {"gcc": "api-gcc.security.microsoft.us", "gcc-high": "api-gov.security.microsoft.us"}


@dataclass(frozen=True)
class Endpoint:
    """Where one hunting API lives for this client: request URL (or path) and token scope."""

    url: str
    scope: str | None  # None: the client's own (Defender) scope


def endpoints(base_url: str) -> dict[str, Endpoint]:
    """The three APIs' URLs and scopes for a client whose Defender API base is *base_url*.

    A real Defender host keeps Graph and XDR on their own hosts (Graph's per cloud); any other
    host (the emulator, a proxy) serves all three, and tokens keep the real audiences.
    """
    host = (urlsplit(base_url).hostname or "").lower()
    paths = {name: operation(op).path for name, (op, _, _) in APIS.items()}
    graph_host, xdr_host = "graph.microsoft.com", "api.security.microsoft.com"
    if host in all_api_hosts():
        cloud = next((c for c in CLOUDS.values() if c.api_host == host), CLOUDS["commercial"])
        graph_host = cloud.graph_host
        xdr_host = _XDR_HOSTS.get("gcc-high" if cloud.name == "dod" else cloud.name, xdr_host)
        graph_url, xdr_url = f"https://{graph_host}{paths['graph']}", f"https://{xdr_host}{paths['xdr']}"
    else:
        graph_url, xdr_url = paths["graph"], paths["xdr"]
    return {
        "graph": Endpoint(graph_url, f"https://{graph_host}/.default"),
        "mde": Endpoint(paths["mde"], None),
        "xdr": Endpoint(xdr_url, f"https://{xdr_host}/.default"),
    }


_SHORT = re.compile(r"^(\d+)\s*([dhms])$", re.IGNORECASE)
_ISO = re.compile(r"^P(?=\d|T\d)(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+S)?)?$", re.IGNORECASE)


def iso_duration(value: timedelta | str) -> str:
    """``timedelta(days=7)``, ``"7d"``, ``"12h"`` or ``"P7D"`` -> an ISO 8601 duration (``P7D``)."""
    if isinstance(value, timedelta):
        seconds = int(value.total_seconds())
    else:
        text = value.strip()
        if _ISO.match(text):
            return text.upper()
        m = _SHORT.match(text)
        if not m:
            raise ConfigurationError(
                f"timespan {value!r} is not a duration: use 7d, 12h, 30m, or ISO 8601 like P7D / PT12H"
            )
        seconds = int(m.group(1)) * {"d": 86400, "h": 3600, "m": 60, "s": 1}[m.group(2).lower()]
    if seconds <= 0:
        raise ConfigurationError("timespan must be positive")
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    clock = "".join(f"{n}{u}" for n, u in ((hours, "H"), (minutes, "M"), (secs, "S")) if n)
    return "P" + (f"{days}D" if days else "") + (f"T{clock}" if clock else "")


def build_call(
    api: str, endpoint: Endpoint, query: str, timespan: timedelta | str | None
) -> Call[HuntingResult]:
    """The request for one query (body ``{"Query"}``, plus ``Timespan`` for Graph)."""
    if not isinstance(query, str) or not query.strip():
        raise ConfigurationError("the hunting query is empty")
    body: dict[str, Any] = {"Query": query}
    if timespan is not None:
        if api != "graph":
            raise ConfigurationError(
                f"timespan is a Microsoft Graph runHuntingQuery option; the {api} API has none: "
                "filter in the query instead (| where Timestamp > ago(7d)) or use api='graph'"
            )
        body["Timespan"] = iso_duration(timespan)
    op: Operation = operation(APIS[api][0])
    return Call(op, endpoint.url, {}, body, lambda raw: parse_result(raw, api))


def _check_api(api: str | None) -> None:
    if api is not None and api not in APIS:
        raise ConfigurationError(f"unknown hunting api {api!r}; choose one of: {', '.join(APIS)}")


def choose_api(roles: Mapping[str, tuple[str, ...] | None]) -> str | None:
    """The first API (graph, mde, xdr) whose token allows hunting; ``None`` if none does.

    *roles* maps an API name to its token's roles (``None``: an opaque token, assumed usable);
    an API missing from *roles* has no token.
    """
    for name, (_, role, _) in APIS.items():
        if name in roles and (roles[name] is None or role in (roles[name] or ())):
            return name
    return None


def _no_permission(roles: Mapping[str, tuple[str, ...] | None]) -> PermissionMissingError:
    wanted = "; ".join(f"{role} on {res} (api={name})" for name, (_, role, res) in APIS.items())
    seen = ", ".join(sorted({r for rs in roles.values() for r in rs or ()})) or "none"
    return PermissionMissingError(
        f"advanced hunting needs one of these application permissions: {wanted}. "
        f"The tokens' roles are: {seen}. Grant one (ThreatHunting.Read.All is Microsoft's "
        "recommended API), grant admin consent, then request new tokens.",
        operation="hunting.run",
        required=tuple(role for _, role, _ in APIS.values()),
        granted=tuple(sorted({r for rs in roles.values() for r in rs or ()})),
    )


class Hunting:
    """``client.hunting``: run KQL on the Graph, MDE or XDR hunting API."""

    def __init__(self, client: Defender) -> None:
        self._client = client
        self._endpoints = endpoints(client.base_url)
        self._engines: dict[str, SyncEngine] = {"mde": client._engine}
        #: The API ``api=None`` runs on (chosen from the tokens on first use).
        self.api: str | None = None

    def run(
        self, query: str, *, timespan: timedelta | str | None = None, api: str | None = None
    ) -> HuntingResult:
        """Run *query*; *timespan* (Graph only) limits the data to the last ``7d``/``P7D``/timedelta."""
        _check_api(api)
        name = api or self._choose()
        call = build_call(name, self._endpoints[name], query, timespan)
        result: HuntingResult = self._engine(name).run(call_flow(call, self._client._opts))
        return result

    def _engine(self, name: str) -> SyncEngine:
        if name not in self._engines:
            c = self._client
            scope = self._endpoints[name].scope or c.scope
            tokens = TokenProvider(c.tokens.credential, scope, clock=c.tokens.clock, skew=c.tokens.skew)
            self._engines[name] = SyncEngine(c._http, tokens, c.limiter, c.sleep)
        return self._engines[name]

    def _choose(self) -> str:
        if self.api is None:
            roles: dict[str, tuple[str, ...] | None] = {}
            for name in APIS:
                try:
                    token = self._engine(name).tokens.get()
                except MdeError:
                    if name == "mde":  # the client's own credential is broken: say so, not "no role"
                        raise
                    continue  # e.g. the app may not ask for tokens of this resource
                roles[name] = token.roles if token.claims is not None else None
                if choose_api(roles) == name:
                    break
            self.api = choose_api(roles)
            if self.api is None:
                raise _no_permission(roles)
        return self.api


class AsyncHunting:
    """The async twin of :class:`Hunting` (``await client.hunting.run(...)``)."""

    def __init__(self, client: AsyncDefender) -> None:
        self._client = client
        self._endpoints = endpoints(client.base_url)
        self._engines: dict[str, AsyncEngine] = {"mde": client._engine}
        self.api: str | None = None

    async def run(
        self, query: str, *, timespan: timedelta | str | None = None, api: str | None = None
    ) -> HuntingResult:
        """As :meth:`Hunting.run`."""
        _check_api(api)
        name = api or await self._choose()
        call = build_call(name, self._endpoints[name], query, timespan)
        result: HuntingResult = await self._engine(name).run(call_flow(call, self._client._opts))
        return result

    def _engine(self, name: str) -> AsyncEngine:
        if name not in self._engines:
            c = self._client
            scope = self._endpoints[name].scope or c.scope
            inner = c.tokens._sync
            tokens = AsyncTokenProvider(inner.credential, scope, clock=inner.clock, skew=inner.skew)
            self._engines[name] = AsyncEngine(c._http, tokens, c.limiter, c.sleep)
        return self._engines[name]

    async def _choose(self) -> str:
        if self.api is None:
            roles: dict[str, tuple[str, ...] | None] = {}
            for name in APIS:
                try:
                    token = await self._engine(name).tokens.get()
                except MdeError:
                    if name == "mde":
                        raise
                    continue
                roles[name] = token.roles if token.claims is not None else None
                if choose_api(roles) == name:
                    break
            self.api = choose_api(roles)
            if self.api is None:
                raise _no_permission(roles)
        return self.api
