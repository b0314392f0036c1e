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
the choice is remembered in :attr:`Hunting.api`. Hosts and token scopes come from the client's
routes (:mod:`mdekit.client.routing`: the catalogue resource of each operation, in the client's
cloud; a custom ``base_url`` such as the emulator's receives all three). Calls run through the
client's request flow, so throttling (429 for the call quota or the CPU quota) is retried under
the client's :class:`RetryPolicy`; a query is replay-safe (the catalogue marks it idempotent).

::

    result = client.hunting.run("DeviceProcessEvents | where FileName =~ 'certutil.exe' | take 10",
                                timespan="P7D")
    for row in result: print(row["DeviceName"])
    frame = result.to_pandas()
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

from mdekit.catalog import MDE, Operation, operation
from mdekit.client.base import C, Family, procedure
from mdekit.client.core import Call, make_call
from mdekit.client.flow import Flow, GetToken, call_flow
from mdekit.client.hunting_result import HuntingColumn, HuntingResult, parse_result
from mdekit.errors import ConfigurationError, MdeError, PermissionMissingError

__all__ = [
    "APIS",
    "Hunting",
    "HuntingColumn",
    "HuntingResult",
    "build_call",
    "choose_api",
    "iso_duration",
]

#: ``api=`` name -> the catalogue operation running a query there, in preference order.
APIS: dict[str, str] = {"graph": "hunting.run_graph", "mde": "hunting.run", "xdr": "hunting.run_xdr"}


def _op(api: str) -> Operation:
    return operation(APIS[api])


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


def build_call(api: str, query: str, timespan: timedelta | str | None) -> Call[HuntingResult]:
    """The request for one query on *api* (body ``{"Query"}``, plus ``Timespan`` for Graph)."""
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
    return make_call(APIS[api], lambda raw: parse_result(raw, api), body=body)


def _check_api(api: str | None) -> None:
    if api is not None and api not in APIS:
        raise ConfigurationError(f"unknown hunting api {api!r}; choose one of: {', '.join(APIS)}")


def choose_api(roles: Mapping[str, tuple[str, ...] | None]) -> str | None:
    """The first API (graph, mde, xdr) whose token allows hunting; ``None`` if none does.

    *roles* maps an API name to its token's roles (``None``: an opaque token, assumed usable);
    an API missing from *roles* has no token.
    """
    for name in APIS:
        if name in roles and (roles[name] is None or any(r in (roles[name] or ()) for r in _op(name).roles)):
            return name
    return None


def _no_permission(roles: Mapping[str, tuple[str, ...] | None]) -> PermissionMissingError:
    wanted = "; ".join(
        f"{' or '.join(_op(name).roles)} on {_op(name).resource} (api={name})" for name in APIS
    )
    granted = tuple(sorted({r for rs in roles.values() for r in rs or ()}))
    recommended = " or ".join(_op(next(iter(APIS))).roles)
    return PermissionMissingError(
        f"advanced hunting needs one of these application permissions: {wanted}. "
        f"The tokens' roles are: {', '.join(granted) or 'none'}. Grant one ({recommended} is "
        "Microsoft's recommended API), grant admin consent, then request new tokens.",
        operation="hunting.run",
        required=tuple(role for name in APIS for role in _op(name).roles),
        granted=granted,
    )


class Hunting(Family[C]):
    """``client.hunting``: run KQL on the Graph, MDE or XDR hunting API."""

    #: The API ``api=None`` runs on (chosen from the tokens on first use).
    api: str | None = None

    def _run(
        self, query: str, *, timespan: timedelta | str | None = None, api: str | None = None
    ) -> Flow[HuntingResult]:
        """Run *query*; *timespan* (Graph only) limits the data to the last ``7d``/``P7D``/timedelta."""
        _check_api(api)
        name = api or (yield from self._choose())
        return (yield from call_flow(build_call(name, query, timespan), self._client.options))

    run = procedure(_run)

    def _choose(self) -> Flow[str]:
        """The API to use: asks each resource's token for its roles, in preference order."""
        if self.api is None:
            roles: dict[str, tuple[str, ...] | None] = {}
            for name in APIS:
                resource = _op(name).resource
                try:
                    token = yield GetToken(resource)
                except MdeError:
                    if resource == MDE.name:  # the client's own resource: say so, not "no role"
                        raise
                    continue  # e.g. the app may not ask for tokens of this resource
                roles[name] = token.roles if token.claims is not None else None
                if choose_api(roles) == name:
                    break
            self.api = choose_api(roles)
            if self.api is None:
                raise _no_permission(roles)
        return self.api
