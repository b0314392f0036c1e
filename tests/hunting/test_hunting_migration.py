"""The MDE hunting API's retirement (MC1220762) and Graph's ``Timespan`` forms, through the client
over real HTTPS against the session emulator.

* Falling back from Graph to the MDE or XDR API warns once per client (``RetiringApiWarning``),
  naming the Graph permission; a Graph-capable app or a forced ``api=`` gets no warning.
* A retired API (``POST /_emulator/retirements``) raises ``RetiredApiError`` naming the permission
  and the replacement; once the app is granted ThreatHunting.Read.All, a client that chose the
  API itself moves to Graph on its own, while a forced ``api="mde"`` never does.
* Every ``timespan=`` form narrows the rows to exactly the window it names.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from mdekit.client import Defender
from mdekit.client.hunting import graph_timespan
from mdekit.errors import ConfigurationError, RetiredApiError, RetiringApiWarning

pytestmark = pytest.mark.socket

GRAPH = {"resource": "https://graph.microsoft.com", "role": "ThreatHunting.Read.All"}
XDR = {"resource": "https://api.security.microsoft.com", "role": "AdvancedHunting.Read.All"}
COUNT = "DeviceInfo | count"


def _client(app: dict[str, Any]) -> Defender:
    return Defender.from_secret(
        app["tenantId"], app["appId"], app["secret"], base_url=app["url"], authority=app["url"],
        verify=app["caCert"],
    )  # fmt: skip


def _hunting_statuses(control: httpx.Client) -> list[tuple[str, int]]:
    entries = control.get("/_emulator/requests").json()["value"]
    return [(e["path"], e["status"]) for e in entries if e["path"].endswith(("/run", "/runHuntingQuery"))]


@pytest.mark.parametrize(("permissions", "api", "path"), [
    (["AdvancedQuery.Read.All"], "mde", "/api/advancedqueries/run"),
    ([XDR], "xdr", "/api/advancedhunting/run"),
])  # fmt: skip
def test_a_fallback_from_graph_warns_once_naming_the_permission(
    make_app: Callable[..., Any], permissions: list[Any], api: str, path: str
) -> None:
    with _client(make_app(permissions=permissions)) as client, warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        for _ in range(3):
            assert client.hunting.run(COUNT).api == api
    assert [w.category for w in seen] == [RetiringApiWarning]  # once per client, not per query
    text = str(seen[0].message)
    assert path in text and "MC1220762" in text and "ThreatHunting.Read.All" in text
    assert issubclass(RetiringApiWarning, FutureWarning)  # shown to end users by default


def test_no_warning_on_graph_or_a_forced_api(make_app: Callable[..., Any]) -> None:
    app = make_app(permissions=[GRAPH, "AdvancedQuery.Read.All"])
    with _client(app) as client, warnings.catch_warnings():
        warnings.simplefilter("error", RetiringApiWarning)  # a warning would fail the test
        assert client.hunting.run(COUNT).api == "graph"
        assert client.hunting.run(COUNT, api="mde").api == "mde"


def test_a_retired_api_names_the_permission_then_the_client_moves_to_graph(
    make_app: Callable[..., Any], control: httpx.Client
) -> None:
    app = make_app(permissions=["AdvancedQuery.Read.All"])
    assert control.post("/_emulator/retirements", json={"advancedHunting": True}).status_code == 200
    with _client(app) as client, warnings.catch_warnings():
        warnings.simplefilter("ignore", RetiringApiWarning)
        with pytest.raises(RetiredApiError) as chosen:
            client.hunting.run(COUNT)
        text = str(chosen.value)
        assert chosen.value.status == 410 and chosen.value.exit_code == 1
        for part in ("/api/advancedqueries/run", "MC1220762", "ThreatHunting.Read.All", "runHuntingQuery"):
            assert part in text
        with pytest.raises(RetiredApiError, match="api='graph'"):
            client.hunting.run(COUNT, api="mde")
        # the administrator grants the Graph permission; the same client moves by itself
        tenant, app_id = app["tenantId"], app["appId"]
        granted = control.post(
            f"/_emulator/tenants/{tenant}/applications/{app_id}/permissions", json={"add": [GRAPH]}
        )
        assert granted.status_code == 200, granted.text
        assert control.post(f"/_emulator/tenants/{tenant}/consent", json={"appId": app_id}).status_code == 200
        moved = client.hunting.run(COUNT)
        assert moved.api == "graph" and client.hunting.api == "graph" and moved.rows[0]["Count"] > 0
        with pytest.raises(RetiredApiError):  # a forced API is never switched
            client.hunting.run(COUNT, api="mde")
    assert _hunting_statuses(control) == [
        ("/api/advancedqueries/run", 410),
        ("/api/advancedqueries/run", 410),
        ("/api/advancedqueries/run", 410),
        ("/v1.0/security/runHuntingQuery", 200),
        ("/api/advancedqueries/run", 410),
    ]


# -- timespan ---------------------------------------------------------------------------------------


def _time(text: str) -> datetime:
    """A hunting timestamp (up to 7 fractional digits, ``Z``) as an aware datetime."""
    head, _, frac = text.rstrip("Z").partition(".")
    return datetime.fromisoformat(head + (f".{frac[:6]:0<6}" if frac else "")).replace(tzinfo=UTC)


WINDOW = "DeviceLogonEvents | summarize n = count(), lo = min(Timestamp), hi = max(Timestamp)"


def test_every_timespan_form_returns_exactly_the_rows_of_its_window(make_app: Callable[..., Any]) -> None:
    with _client(make_app(permissions=[GRAPH])) as client:
        whole = client.hunting.run(WINDOW, timespan="P30D").rows[0]
        first, last = _time(whole["lo"]), _time(whole["hi"])
        assert whole["n"] > 50 and last - first > timedelta(days=3), whole
        start = first + (last - first) / 3
        end = start + timedelta(days=1)
        now = last + timedelta(minutes=1)  # no event is newer than the emulator's clock

        def between(lo: datetime, hi: datetime) -> int:
            query = (
                f"DeviceLogonEvents | where Timestamp between (datetime({lo.isoformat()}) .. "
                f"datetime({hi.isoformat()})) | count"
            )
            return int(client.hunting.run(query, timespan="P30D").rows[0]["Count"])

        day = between(start, end)
        iso_start, iso_end = start.strftime("%Y-%m-%dT%H:%M:%S.%fZ"), end.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        forms: dict[str, Any] = {
            "(start, end)": (start, end),
            "start/end": f"{iso_start}/{iso_end}",
            "(duration, end)": (timedelta(days=1), end),
            "P1D/end": f"P1D/{iso_end}",
            "(start, duration)": (start, timedelta(days=1)),
            "start/PT24H": f"{iso_start}/PT24H",
            "naive (start, end)": (start.replace(tzinfo=None), end.replace(tzinfo=None)),
        }
        for name, span in forms.items():
            got = client.hunting.run(WINDOW, timespan=span).rows[0]
            assert got["n"] == day > 0, (name, got, day)
            assert start <= _time(got["lo"]) <= _time(got["hi"]) <= end, (name, got)
        rows = client.hunting.run("DeviceLogonEvents | project Timestamp | take 500", timespan=(start, end))
        assert rows.rows and all(start <= _time(r["Timestamp"]) <= end for r in rows)
        since = client.hunting.run(WINDOW, timespan=start).rows[0]  # a start: from it to now
        assert since["n"] == between(start, now) and _time(since["lo"]) >= start
        recent = client.hunting.run(WINDOW, timespan=timedelta(days=1)).rows[0]
        assert _time(recent["lo"]) >= last - timedelta(days=1, minutes=1)


def test_timespan_text_and_mistakes_are_checked_before_sending() -> None:
    start, end = datetime(2024, 2, 1, 8, tzinfo=UTC), datetime(2024, 2, 15, 8, tzinfo=UTC)
    assert graph_timespan((start, end)) == "2024-02-01T08:00:00Z/2024-02-15T08:00:00Z"
    assert graph_timespan((timedelta(days=7), end)) == "P7D/2024-02-15T08:00:00Z"
    assert graph_timespan(("2024-02-01T08:00:00Z", "p7d")) == "2024-02-01T08:00:00Z/P7D"
    assert graph_timespan("2024-02-01T08:00:00+02:00") == "2024-02-01T06:00:00Z"
    assert graph_timespan(datetime(2024, 2, 1, 8, 0, 0, 500)) == "2024-02-01T08:00:00.000500Z"
    assert graph_timespan("7d") == graph_timespan(timedelta(days=7)) == "P7D"
    assert graph_timespan("P1W") == "P1W"
    bad: list[Any] = ["P7D/P1D", (end, start), "yesterday", "2024-02-01/soon", (start,), "/"]
    for value in bad:
        with pytest.raises(ConfigurationError):
            graph_timespan(value)
