"""The control plane answers the legacy advanced-hunting APIs as retired (MC1220762), so users can
test their move to Graph ``runHuntingQuery``."""

from __future__ import annotations

from defender_helpers import Api, mint, register_app
from fastapi.testclient import TestClient

from mdekit.catalog import GRAPH, MTP
from mdekit.emulator.state import EmulatorState

QUERY = {"Query": "DeviceInfo | take 1"}


def test_retired_hunting_answers_410_and_graph_goes_on(
    api: Api, client: TestClient, state: EmulatorState, seeded: str
) -> None:
    assert api.post("/api/advancedqueries/run", QUERY).status_code == 200  # not retired by default
    assert client.get("/_emulator/retirements").json()["advancedHunting"] is False
    switched = client.post("/_emulator/retirements", json={"advancedHunting": True})
    assert switched.status_code == 200 and switched.json() == {
        "advancedHunting": True,
        "paths": ["/api/advancedqueries/run", "/api/advancedhunting/run"],
    }
    for path in ("/api/advancedqueries/run", "/API/AdvancedQueries/Run", "/api/v1.0/advancedqueries/run"):
        r = api.post(path, QUERY)
        assert r.status_code == 410, (path, r.text)
        error = r.json()["error"]
        assert error["code"] == "Gone" and error["target"] == r.headers["request-id"]
        assert "MC1220762" in error["message"] and "security/runHuntingQuery" in error["message"]
    xdr_app = register_app(state, seeded, ["AdvancedHunting.Read.All"])
    xdr = Api(
        client, mint(state, seeded, ["AdvancedHunting.Read.All"], app_id=xdr_app, aud=MTP.identifier_uris[0])
    )
    assert xdr.post("/api/advancedhunting/run", QUERY).status_code == 410
    graph_app = register_app(state, seeded, ["ThreatHunting.Read.All"])
    graph_token = mint(
        state, seeded, ["ThreatHunting.Read.All"], app_id=graph_app, aud=GRAPH.identifier_uris[0]
    )
    graph = Api(client, graph_token)
    r = graph.post("/v1.0/security/runHuntingQuery", {"Query": "DeviceInfo | take 1"})
    assert r.status_code == 200, r.text  # the replacement still answers
    # switched back, or forgotten on reset
    client.post("/_emulator/retirements", json={"advancedHunting": False})
    assert api.post("/api/advancedqueries/run", QUERY).status_code == 200
    client.post("/_emulator/retirements", json={"advancedHunting": True})
    client.post("/_emulator/reset")
    assert client.get("/_emulator/retirements").json()["advancedHunting"] is False


def test_bad_retirement_switches_are_400(client: TestClient, state: EmulatorState) -> None:
    for body in ({"advancedHunting": "yes"}, {"hunting": True}, [True]):
        r = client.post("/_emulator/retirements", json=body)
        assert r.status_code == 400, body
    assert client.get("/_emulator/retirements").json()["advancedHunting"] is False
