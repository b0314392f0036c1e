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
the choice is remembered in :attr:`Hunting.api`.

Microsoft is retiring the MDE and XDR hunting APIs in favour of Graph (message MC1220762). When
``api=None`` lands on one of them, the client says so once, with a :class:`~mdekit.errors.
RetiringApiWarning` naming the Graph permission to grant. When such an API answers 410 Gone (retired;
the emulator's ``POST /_emulator/retirements {"advancedHunting": true}``), a client that chose it
itself asks for a fresh Graph token: if the app now holds ThreatHunting.Read.All, the query runs on
Graph (and later ones too); otherwise - or when ``api=`` forced the retired API - it raises
:class:`~mdekit.errors.RetiredApiError` saying what to grant. A forced ``api=`` is never switched.
Microsoft documents only that a retired endpoint "no longer functions" (run-advanced-query-api,
api-advanced-hunting; the Graph overview dates the end of data at 1 February 2027), not its answer:
treating 410 Gone as retired follows the emulator's switch and is UNVERIFIED against the service.

``timespan=`` (Graph only) takes every form of Graph's ``Timespan``: a duration back from now
(``timedelta``, ``"7d"``, ``"P7D"``), a start ``datetime`` (start to now), a ``(start, end)`` tuple
of datetimes, ``(duration, end)`` or ``(start, duration)``, and the same as text: ``"start/end"``,
``"P7D/end"``, ``"start/P7D"``. A naive datetime is UTC. Hosts and token scopes come from the client's
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
import warnings
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, TypeAlias

from mdekit.catalog import GRAPH, MDE, Operation, operation
from mdekit.client.base import C, Family, procedure
from mdekit.client.core import Call, make_call
from mdekit.client.flow import Flow, GetToken, call_flow
from mdekit.client.hunting_result import HuntingColumn, HuntingResult, parse_result
from mdekit.errors import (
    ConfigurationError,
    MdeError,
    PermissionMissingError,
    RetiredApiError,
    RetiringApiWarning,
)

__all__ = [
    "APIS",
    "Hunting",
    "HuntingColumn",
    "HuntingResult",
    "Timespan",
    "build_call",
    "choose_api",
    "fallback_notice",
    "graph_timespan",
    "iso_duration",
]

#: ``api=`` name -> the catalogue operation running a query there, in preference order.
APIS: dict[str, str] = {"graph": "hunting.run_graph", "mde": "hunting.run", "xdr": "hunting.run_xdr"}


def _op(api: str) -> Operation:
    return operation(APIS[api])


_SHORT = re.compile(r"^(\d+)\s*([dhms])$", re.IGNORECASE)
_ISO = re.compile(r"^P(?=\d|T\d)(?:\d+W)?(?:\d+D)?(?:T(?=\d)(?:\d+H)?(?:\d+M)?(?:\d+S)?)?$", re.IGNORECASE)
#: One end of a timespan: a point in time or a duration.
Bound: TypeAlias = datetime | timedelta | str
#: Graph's ``Timespan``, in any of its forms (see the module docs).
Timespan: TypeAlias = timedelta | datetime | str | tuple[Bound, Bound]


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


def _instant(value: datetime) -> str:
    """An ISO 8601 UTC instant (``2024-02-01T08:00:00Z``; microseconds kept when set)."""
    value = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return value.strftime("%Y-%m-%dT%H:%M:%S" + (".%f" if value.microsecond else "") + "Z")


def _bound(value: Bound) -> tuple[str, datetime | None]:
    """(Graph text, the instant or ``None`` for a duration) of one end of a timespan."""
    if isinstance(value, datetime):
        return _instant(value), value if value.tzinfo else value.replace(tzinfo=UTC)
    if isinstance(value, timedelta):
        return iso_duration(value), None
    text = str(value).strip()
    try:
        return iso_duration(text), None
    except ConfigurationError:
        pass
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise ConfigurationError(
            f"timespan part {text!r} is neither a duration (7d, P7D) nor a date/time (2024-02-01T08:00:00Z)"
        ) from None
    return _bound(moment)


def graph_timespan(value: Timespan) -> str:
    """*value* as Graph's ``Timespan`` text: ``P7D``, ``start``, ``start/end``, ``P7D/end``, ``start/P7D``."""
    if isinstance(value, tuple):
        if len(value) != 2:
            raise ConfigurationError("a timespan tuple is (start, end), (duration, end) or (start, duration)")
        first, second = value
    elif isinstance(value, str) and "/" in value:
        first, second = value.split("/", 1)
    else:
        return _bound(value)[0]
    (a_text, a_time), (b_text, b_time) = _bound(first), _bound(second)
    if a_time is None and b_time is None:
        raise ConfigurationError(
            "a timespan of two durations has no anchor: give start/end, P7D/end or start/P7D"
        )
    if a_time is not None and b_time is not None and a_time > b_time:
        raise ConfigurationError(f"timespan starts after it ends ({a_text} > {b_text})")
    return f"{a_text}/{b_text}"


def build_call(api: str, query: str, timespan: Timespan | None) -> Call[HuntingResult]:
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
        body["Timespan"] = graph_timespan(timespan)
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
        self, query: str, *, timespan: Timespan | None = None, api: str | None = None
    ) -> Flow[HuntingResult]:
        """Run *query*; *timespan* (Graph only) limits the data: ``7d``/``P7D``/timedelta back from
        now, a start datetime, ``(start, end)``, ``(duration, end)``, ``(start, duration)`` or the
        same as ``"start/end"`` text."""
        _check_api(api)
        name = api or (yield from self._choose())
        opts = self._client.options
        try:
            return (yield from call_flow(build_call(name, query, timespan), opts))
        except RetiredApiError as exc:
            if name == "graph":
                raise
            if api is None and (yield from self._graph_allowed()):
                self.api = "graph"  # the app holds the Graph permission now: move for good
                return (yield from call_flow(build_call("graph", query, timespan), opts))
            raise RetiredApiError(
                _retired_message(name, forced=api is not None),
                status=exc.status,
                code=exc.code,
                target=exc.target,
                body=exc.body,
            ) from None

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
            if self.api != "graph":  # once per client: the choice is remembered
                warnings.warn(RetiringApiWarning(fallback_notice(self.api)), stacklevel=1)
        return self.api

    def _graph_allowed(self) -> Flow[bool]:
        """Whether a *fresh* Graph token carries the hunting role (granted since the last token?)."""
        try:
            token = yield GetToken(GRAPH.name)
            if choose_api({"graph": token.roles if token.claims is not None else None}) != "graph":
                token = yield GetToken(GRAPH.name, token)  # the cached one may predate the grant
        except MdeError:
            return False
        return choose_api({"graph": token.roles if token.claims is not None else None}) == "graph"


def _graph_role() -> str:
    return " or ".join(_op("graph").roles)


def fallback_notice(api: str) -> str:
    """The notice for falling back to a retiring hunting API."""
    op = _op(api)
    return (
        f"advanced hunting runs on the {api.upper()} API ({op.path}), which Microsoft is retiring "
        f"(message MC1220762): grant the app the Microsoft Graph application permission {_graph_role()} "
        "(with admin consent) and queries move to Graph security/runHuntingQuery"
    )


def _retired_message(api: str, *, forced: bool) -> str:
    """The error for a hunting API that answered as retired (410 Gone)."""
    op = _op(api)
    then = (
        "then run the query with api='graph' (or leave api unset)"
        if forced
        else "then run the query again: the client moves to Graph by itself"
    )
    return (
        f"the {api.upper()} advanced hunting API ({op.method} {op.path}) is retired (Microsoft message "
        f"MC1220762); its replacement is Microsoft Graph POST /v1.0/security/runHuntingQuery. Grant the app "
        f"the Microsoft Graph application permission {_graph_role()} and admin consent, {then}."
    )
