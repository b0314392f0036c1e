"""Machine actions: lifecycle on the virtual clock, effects, duplicates, platform rules, cancel, "
"package URI."""

from __future__ import annotations

from typing import Any

import pytest
from defender_helpers import Api

from mdekit.emulator.state import EmulatorState


def _machine(api: Api, platform_filter: str = "startswith(osPlatform,'Windows')") -> dict[str, Any]:
    return api.get(f"/api/machines?$filter={platform_filter}&$top=1").json()["value"][0]


def _status(api: Api, action_id: str) -> str:
    return str(api.get(f"/api/machineactions/{action_id}").json()["status"])


def test_isolation_lifecycle_and_effect(api: Api, state: EmulatorState, seeded: str) -> None:
    state.defender.actions.timing.set(None, 60, 120, "Succeeded")
    m = _machine(api)
    r = api.post(f"/api/machines/{m['id']}/isolate", {"Comment": "contain", "IsolationType": "Selective"})
    assert r.status_code == 201
    action = r.json()
    assert list(action)[:7] == [
        "@odata.context",
        "id",
        "type",
        "title",
        "requestor",
        "requestorComment",
        "status",
    ]
    assert action["@odata.context"].endswith("/api/$metadata#MachineActions/$entity")
    assert (action["type"], action["status"], action["scope"]) == ("Isolate", "Pending", "Selective")
    assert action["requestor"] == "mdekit tests" and action["requestSource"] == "PublicApi"
    state.clock.advance(59)
    assert _status(api, action["id"]) == "Pending"
    state.clock.advance(2)
    assert _status(api, action["id"]) == "InProgress"
    assert state.defender.machines.state(seeded, m["id"]) == {"isolation": None, "restricted": False}
    state.clock.advance(120)
    done = api.get(f"/api/machineactions/{action['id']}").json()
    assert done["status"] == "Succeeded"
    assert done["lastUpdateDateTimeUtc"] > done["creationDateTimeUtc"]
    assert state.defender.machines.state(seeded, m["id"]) == {"isolation": "Selective", "restricted": False}
    r = api.post(f"/api/machines/{m['id']}/unisolate", {"Comment": "release"})
    state.clock.advance(200)
    assert _status(api, r.json()["id"]) == "Succeeded"
    assert state.defender.machines.state(seeded, m["id"])["isolation"] is None


@pytest.mark.parametrize("outcome", ["Failed", "TimeOut"])
def test_outcome_switch(api: Api, state: EmulatorState, control_timing: Any, outcome: str) -> None:
    control_timing({"type": "RunAntiVirusScan", "pendingSeconds": 0, "runSeconds": 10, "outcome": outcome})
    m = _machine(api)
    scan = api.post(
        f"/api/machines/{m['id']}/runAntiVirusScan", {"Comment": "scan", "ScanType": "Full"}
    ).json()
    assert scan["scope"] == "Full"
    state.clock.advance(11)
    assert _status(api, scan["id"]) == outcome
    # other types keep the default outcome
    restrict = api.post(f"/api/machines/{m['id']}/restrictCodeExecution", {"Comment": "r"}).json()
    state.clock.advance(600)
    assert _status(api, restrict["id"]) == "Succeeded"


def test_duplicate_pending_action_is_refused(api: Api, state: EmulatorState) -> None:
    m = _machine(api)
    assert api.post(f"/api/machines/{m['id']}/isolate", {"Comment": "a"}).status_code == 201
    for path in ("isolate", "unisolate"):
        r = api.post(f"/api/machines/{m['id']}/{path}", {"Comment": "b"})
        assert r.status_code == 400
        assert r.json()["error"] == {
            "code": "ActiveRequestAlreadyExists",
            "message": "Action is already in progress",
            "target": r.headers["request-id"],
        }
    assert api.post(f"/api/machines/{m['id']}/runAntiVirusScan", {"Comment": "c"}).status_code == 201
    state.clock.advance(600)
    assert api.post(f"/api/machines/{m['id']}/isolate", {"Comment": "again"}).status_code == 201


def test_offboard_platform_rule_and_effect(api: Api, state: EmulatorState) -> None:
    linux = _machine(api, "osPlatform eq 'Linux'")
    r = api.post(f"/api/machines/{linux['id']}/offboard", {"Comment": "x"})
    assert r.status_code == 400
    assert r.json()["error"]["code"] == "OsPlatformNotSupported"
    assert r.json()["error"]["message"] == "OS Platform Linux isn't supported for this action."
    win = _machine(api, "osPlatform eq 'Windows10' and healthStatus eq 'Active'")
    action = api.post(f"/api/machines/{win['id']}/offboard", {"Comment": "bye"}).json()
    state.clock.advance(600)
    assert _status(api, action["id"]) == "Succeeded"
    assert api.get(f"/api/machines/{win['id']}").json()["healthStatus"] == "Inactive"


def test_cancel_and_package_uri(api: Api, state: EmulatorState) -> None:
    m = _machine(api)
    collect = api.post(
        f"/api/machines/{m['id']}/collectInvestigationPackage", {"Comment": "forensics"}
    ).json()
    r = api.get(f"/api/machineactions/{collect['id']}/GetPackageUri")
    assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceNotFound"
    state.clock.advance(600)
    r = api.get(f"/api/machineactions/{collect['id']}/getPackageUri")
    assert r.status_code == 200
    assert r.json()["@odata.context"].endswith("#Edm.String") and r.json()["value"].startswith("https://")
    quarantine = api.post(
        f"/api/machines/{m['id']}/StopAndQuarantineFile", {"Comment": "q", "Sha1": "ab" * 20}
    )
    assert quarantine.json()["relatedFileInfo"] == {"fileIdentifier": "ab" * 20, "fileIdentifierType": "Sha1"}
    cancelled = api.post(f"/api/machineactions/{quarantine.json()['id']}/cancel", {"Comment": "oops"})
    assert cancelled.status_code == 200
    body = cancelled.json()
    assert (body["status"], body["cancellationComment"], body["cancellationRequestor"]) == (
        "Cancelled",
        "oops",
        "mdekit tests",
    )
    again = api.post(f"/api/machineactions/{quarantine.json()['id']}/cancel", {"Comment": "x"})
    assert again.status_code == 400
    assert api.post("/api/machineactions/nope/cancel", {"Comment": "x"}).status_code == 404


@pytest.mark.parametrize(
    ("path", "body", "code"),
    [
        ("isolate", {"comment": "x"}, "InvalidRequestBody"),
        ("isolate", {}, "MissingRequiredParameter"),
        ("isolate", {"Comment": "x", "IsolationType": "Partial"}, "InvalidInput"),
        ("runAntiVirusScan", {"Comment": "x", "ScanType": "quick"}, "InvalidInput"),
        ("StopAndQuarantineFile", {"Comment": "x"}, "MissingRequiredParameter"),
        ("StopAndQuarantineFile", {"Comment": "x", "Sha1": "xyz"}, "InvalidInput"),
        ("offboard", {"Comment": 5}, "InvalidRequestBody"),
        ("offboard", ["Comment"], "InvalidRequestBody"),
    ],
)
def test_bad_action_bodies(api: Api, path: str, body: Any, code: str) -> None:
    m = _machine(api)
    r = api.post(f"/api/machines/{m['id']}/{path}", body)
    assert r.status_code == 400 and r.json()["error"]["code"] == code, r.text


def test_unknown_machine_and_action(api: Api) -> None:
    r = api.post("/api/machines/0000/isolate", {"Comment": "x"})
    assert r.status_code == 404 and r.json()["error"]["message"] == "Machine 0000 was not found"
    assert api.get("/api/machineactions/does-not-exist").status_code == 404


def test_action_list_filters(api: Api, state: EmulatorState) -> None:
    m = _machine(api)
    api.post(f"/api/machines/{m['id']}/runAntiVirusScan", {"Comment": "1"})
    api.post(f"/api/machines/{m['id']}/isolate", {"Comment": "2"})
    body = api.get("/api/machineactions?$filter=type eq 'Isolate' and status eq 'Pending'").json()
    assert body["@odata.context"].endswith("#MachineActions")
    assert [a["type"] for a in body["value"]] == ["Isolate"]
    state.clock.advance(600)
    assert api.get("/api/machineactions?$filter=status eq 'Pending'").json()["value"] == []
    assert len(api.get(f"/api/machineactions?$filter=machineId eq '{m['id']}'").json()["value"]) == 2
    assert api.get("/api/machineactions?$filter=status eq 'Done'").json()["error"]["code"] == "ODataError"
