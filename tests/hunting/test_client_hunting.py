"""``client.hunting`` against the emulator over real HTTPS: API choice, shapes, timespan, errors, 429s."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest

from mdekit.catalog import GRAPH as GRAPH_APP
from mdekit.catalog import MDE, MTP
from mdekit.client import AsyncDefender, Defender
from mdekit.client.hunting import iso_duration
from mdekit.client.hunting_result import HuntingColumn, HuntingResult, parse_result
from mdekit.client.retry import RetryPolicy
from mdekit.emulator.hunting.engine import Limits
from mdekit.emulator.hunting.store import hunting_store
from mdekit.errors import (
    BadRequestError,
    ConfigurationError,
    PermissionMissingError,
    RetiringApiWarning,
    ThrottledError,
)

pytestmark = pytest.mark.socket

GRAPH = {"resource": "https://graph.microsoft.com", "role": "ThreatHunting.Read.All"}
XDR = {"resource": "https://api.security.microsoft.com", "role": "AdvancedHunting.Read.All"}
Q = "DeviceProcessEvents | summarize n = count() by DeviceName | order by n desc, DeviceName asc"
PATHS = {
    "graph": "/v1.0/security/runHuntingQuery",
    "mde": "/api/advancedqueries/run",
    "xdr": "/api/advancedhunting/run",
}


def _client(app: dict[str, Any], **kw: Any) -> Defender:
    return Defender.from_secret(
        app["tenantId"],
        app["appId"],
        app["secret"],
        base_url=app["url"],
        authority=app["url"],
        verify=app["caCert"],
        **kw,
    )


def _hunting_calls(control: httpx.Client) -> list[tuple[str, int]]:
    entries = control.get("/_emulator/requests").json()["value"]
    return [(e["path"], e["status"]) for e in entries if e["path"] in PATHS.values()]


def test_graph_is_the_default_and_all_apis_agree(make_app: Callable[..., Any], control: httpx.Client) -> None:
    app = make_app(permissions=[GRAPH, XDR, "AdvancedQuery.Read.All"])
    with _client(app) as client:
        result = client.hunting.run(Q)
        assert client.hunting.api == "graph" and result.api == "graph"
        assert _hunting_calls(control) == [(PATHS["graph"], 200)]
        assert result.schema == [HuntingColumn("DeviceName", "String"), HuntingColumn("n", "Int64")]
        assert result.columns == ["DeviceName", "n"] and len(result) == len(list(result)) > 0
        assert result.stats == {}  # Graph sends no stats
        for api in ("mde", "xdr"):
            other = client.hunting.run(Q, api=api)
            assert (other.rows, other.schema, other.api) == (result.rows, result.schema, api)
            assert {"ExecutionTime", "dataset_statistics"} <= set(other.stats)
    assert [p for p, _ in _hunting_calls(control)] == [PATHS["graph"], PATHS["mde"], PATHS["xdr"]]


def test_mde_only_app_uses_mde_and_timespan_is_refused_before_sending(
    make_app: Callable[..., Any], control: httpx.Client
) -> None:
    app = make_app(permissions=["AdvancedQuery.Read.All"])
    with _client(app) as client:
        with pytest.warns(RetiringApiWarning, match="MC1220762"):  # a fallback from Graph says so
            rows = client.hunting.run("DeviceInfo | project DeviceId, Timestamp | take 2").rows
        assert client.hunting.api == "mde" and len(rows) == 2
        with pytest.raises(ConfigurationError, match="timespan is a Microsoft Graph"):
            client.hunting.run("DeviceInfo", timespan="7d")
        with pytest.raises(ConfigurationError, match="unknown hunting api"):
            client.hunting.run("DeviceInfo", api="kusto")
    assert _hunting_calls(control) == [(PATHS["mde"], 200)]


def test_xdr_only_app_uses_xdr(make_app: Callable[..., Any], control: httpx.Client) -> None:
    with _client(make_app(permissions=[XDR])) as client, pytest.warns(RetiringApiWarning, match="XDR"):
        assert client.hunting.run("AlertInfo | count").schema == [HuntingColumn("Count", "Int64")]
        assert client.hunting.api == "xdr"
    assert _hunting_calls(control) == [(PATHS["xdr"], 200)]


def test_no_hunting_permission_names_all_three_and_sends_nothing(
    make_app: Callable[..., Any], control: httpx.Client
) -> None:
    client = _client(make_app(permissions=["Alert.Read.All"]))
    with client, pytest.raises(PermissionMissingError) as info:
        client.hunting.run("DeviceInfo")
    text = str(info.value)
    for role in ("ThreatHunting.Read.All", "AdvancedQuery.Read.All", "AdvancedHunting.Read.All"):
        assert role in text
    assert "Alert.Read.All" in text and info.value.exit_code == 4
    assert _hunting_calls(control) == []


def test_graph_timespan_narrows_the_data(make_app: Callable[..., Any]) -> None:
    with _client(make_app(permissions=[GRAPH])) as client:
        every = client.hunting.run("DeviceLogonEvents | count").rows[0]["Count"]
        counts = {
            str(ts): client.hunting.run("DeviceLogonEvents | count", timespan=ts).rows[0]["Count"]
            for ts in ("P2D", "2d", timedelta(days=2), "PT48H")
        }
    assert len(set(counts.values())) == 1, counts
    assert 0 <= counts["P2D"] < every


@pytest.mark.parametrize("api", ["graph", "mde"])
def test_syntax_error_is_a_bad_request_naming_line_and_column(make_app: Callable[..., Any], api: str) -> None:
    client = _client(make_app(permissions=[GRAPH, "AdvancedQuery.Read.All"]))
    with client, pytest.raises(BadRequestError) as info:
        client.hunting.run("DeviceInfo\n| where", api=api)
    assert info.value.status == 400 and "on line [2," in str(info.value)


def test_call_quota_429_is_retried_after_retry_after(
    emu: Any, make_app: Callable[..., Any], control: httpx.Client
) -> None:
    emu.state.defender.throttle.configure(scale=2 / 45)  # 2 calls a minute
    slept: list[float] = []

    def sleep(seconds: float) -> None:  # wait on the emulator's virtual clock
        slept.append(seconds)
        emu.state.clock.advance(seconds)

    app = make_app(permissions=["AdvancedQuery.Read.All"])
    with _client(app, sleep=sleep, rate_limit=False) as client:
        for _ in range(3):
            assert client.hunting.run("AlertInfo | count", api="mde").rows
    statuses = [s for _, s in _hunting_calls(control)]
    assert statuses == [200, 200, 429, 200] and len(slept) == 1 and slept[0] >= 1
    emu.state.clock.advance(61)  # an empty window: how it fills must not depend on real time
    with _client(app, rate_limit=False, retry=RetryPolicy(max_attempts=1)) as client:
        for _ in range(2):
            client.hunting.run("AlertInfo | count", api="mde")
        with pytest.raises(ThrottledError) as info:
            client.hunting.run("AlertInfo | count", api="mde")
    assert info.value.retry_after and info.value.retry_after > 0 and info.value.exit_code == 5


def test_cpu_quota_429_is_handled_like_other_429s(emu: Any, make_app: Callable[..., Any]) -> None:
    hunting_store(emu.state).limits = Limits(cpu_seconds_per_hour=1e-9)  # any query uses it up
    app = make_app(permissions=[GRAPH])
    with _client(app, retry=RetryPolicy(max_attempts=1)) as client:
        client.hunting.run("DeviceInfo | count")
        with pytest.raises(ThrottledError, match="CPU quota") as info:
            client.hunting.run("DeviceInfo | count")
    assert info.value.retry_after is not None and 3000 < info.value.retry_after <= 3600
    policy = RetryPolicy(max_attempts=3, max_retry_after=7200, max_total=1e5, jitter=False)
    with _client(app, retry=policy, sleep=emu.state.clock.advance) as client:
        assert client.hunting.run("DeviceInfo | count").rows[0]["Count"] > 0


async def test_async_twin_chooses_and_runs(make_app: Callable[..., Any]) -> None:
    app = make_app(permissions=["AdvancedQuery.Read.All", GRAPH])
    async with AsyncDefender.from_secret(
        app["tenantId"],
        app["appId"],
        app["secret"],
        base_url=app["url"],
        authority=app["url"],
        verify=app["caCert"],
    ) as client:
        graph = await client.hunting.run("DeviceInfo | count")
        mde = await client.hunting.run("DeviceInfo | count", api="mde")
    assert client.hunting.api == "graph" and graph.rows == mde.rows and graph.rows[0]["Count"] > 0


# -- pure parts ------------------------------------------------------------------------------------


def test_routes_real_hosts_and_emulator() -> None:
    real = Defender(_NoCredential())
    graph, xdr, mde = (real.route(r) for r in (GRAPH_APP.name, MTP.name, MDE.name))
    assert graph.url(PATHS["graph"]) == "https://graph.microsoft.com/v1.0/security/runHuntingQuery"
    assert graph.scope == "https://graph.microsoft.com/.default"
    assert xdr.url(PATHS["xdr"]) == "https://api.security.microsoft.com/api/advancedhunting/run"
    assert mde.url(PATHS["mde"]) == "https://api.securitycenter.microsoft.com/api/advancedqueries/run"
    assert mde.scope == "https://api.securitycenter.microsoft.com/.default"
    gov = Defender(_NoCredential(), cloud="gcc-high")
    assert gov.route(GRAPH_APP.name).base_url == "https://graph.microsoft.us"
    assert gov.route(MTP.name).base_url == "https://api-gov.security.microsoft.us"
    region = Defender(_NoCredential(), base_url="https://eu.api.security.microsoft.com")
    assert region.route(GRAPH_APP.name).base_url == "https://graph.microsoft.com"  # only the MDE host moves
    local = Defender(_NoCredential(), base_url="https://127.0.0.1:8443/")
    for route in local.routes:  # the emulator serves all three; tokens keep the real audiences
        assert route.base_url == "https://127.0.0.1:8443"
    assert local.route(GRAPH_APP.name).scope == "https://graph.microsoft.com/.default"
    assert local.route(MTP.name).scope == "https://api.security.microsoft.com/.default"


class _NoCredential:
    def get_token(self, *scopes: str) -> Any:
        raise AssertionError("no token is needed to read routes")


def test_iso_duration() -> None:
    assert iso_duration("7d") == iso_duration(timedelta(days=7)) == "P7D"
    assert iso_duration("90m") == "PT1H30M" and iso_duration("pt12h") == "PT12H"
    assert iso_duration(timedelta(days=1, seconds=5)) == "P1DT5S"
    for bad in ("yesterday", "P", "0d", "-1d"):
        with pytest.raises(ConfigurationError):
            iso_duration(bad)


BODY = {
    "Stats": {"ExecutionTime": 0.01},
    "Schema": [
        {"Name": "Timestamp", "Type": "DateTime"},
        {"Name": "DeviceName", "Type": "String"},
        {"Name": "RemotePort", "Type": "Int32"},
        {"Name": "Total", "Type": "Int64"},
        {"Name": "Ok", "Type": "Boolean"},
        {"Name": "Ratio", "Type": "Double"},
        {"Name": "Extra", "Type": "Object"},
    ],
    "Results": [
        {
            "Timestamp": "2024-01-02T03:04:05.1234560Z",
            "DeviceName": "a",
            "RemotePort": 443,
            "Total": 2**40,
            "Ok": True,
            "Ratio": 0.5,
            "Extra": {"k": [1, 2]},
        },
        {
            "Timestamp": None,
            "DeviceName": "b",
            "RemotePort": None,
            "Total": 1,
            "Ok": False,
            "Ratio": None,
            "Extra": None,
        },
    ],
}


def _result() -> HuntingResult:
    return parse_result(BODY, "mde")


def test_parse_result_both_shapes() -> None:
    mde = _result()
    graph = parse_result(
        {
            "schema": [{"name": c["Name"], "type": c["Type"]} for c in BODY["Schema"]],
            "results": BODY["Results"],
        },
        "graph",
    )
    assert (mde.rows, mde.schema) == (graph.rows, graph.schema) and graph.stats == {}
    assert mde.stats == {"ExecutionTime": 0.01}


@pytest.mark.parametrize(
    ("method", "module", "extra"),
    [("to_pandas", "pandas", "pandas"), ("to_polars", "polars", "polars"), ("to_arrow", "pyarrow", "arrow")],
)
def test_dataframe_conversions(method: str, module: str, extra: str) -> None:
    result = _result()
    if importlib.util.find_spec(module) is None:
        with pytest.raises(ConfigurationError, match=rf"mdekit\[{extra}\]"):
            getattr(result, method)()
        return
    frame = getattr(result, method)()
    assert list(frame.columns if method != "to_arrow" else frame.column_names) == result.columns
    assert (frame.num_rows if method == "to_arrow" else len(frame)) == 2
    if method == "to_arrow":
        assert str(frame.schema.field("Timestamp").type) == "timestamp[us, tz=UTC]"
        assert str(frame.schema.field("RemotePort").type) == "int32"
        assert frame.column("Extra").to_pylist() == ['{"k":[1,2]}', None]
    elif method == "to_polars":
        assert str(frame.schema["Timestamp"]).startswith("Datetime") and str(frame.schema["Total"]) == "Int64"
        assert frame["Extra"].to_list() == ['{"k":[1,2]}', None]
    else:
        dtype = str(frame["Timestamp"].dtype)
        assert dtype.startswith("datetime64") and "UTC" in dtype
        assert str(frame["RemotePort"].dtype) == "Int32" and frame["RemotePort"][0] == 443
        assert frame["Timestamp"][0].microsecond == 123456 and frame["Extra"][0] == {"k": [1, 2]}
