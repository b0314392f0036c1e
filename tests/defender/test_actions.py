"""Machine actions: lifecycle on the virtual clock, effects, duplicates, platform rules, cancel, "
"package URI."""

from __future__ import annotations

from typing import Any

import pytest
from defender_helpers import Api

from mdekit.emulator.state import EmulatorState

NO_ACTION = "00000000-0000-4000-8000-000000000000"  # a well-formed action id no action has


def _machine(api: Api, platform_filter: str = "startswith(osPlatform,'Windows')") -> dict[str, Any]:
    return api.get(f"/api/machines?$filter={platform_filter}&$top=1").json()["value"][0]


def _status(api: Api, action_id: str) -> str:
    return str(api.get(f"/api/machineactions/{action_id}").json()["status"])


def test_isolation_lifecycle_and_effect(api: Api, state: EmulatorState, seeded: str) -> None:
    state.defender.actions.timing.set(None, 60, 120, "Succeeded")
    m = _machine(api, "osPlatform in ('Windows10','Windows11')")  # selective isolation: clients only
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
    assert r.json()["@odata.context"].endswith("#Edm.String")
    # the docs' form: the URL inside literal double quotes (get-package-sas-uri example)
    value = r.json()["value"]
    assert value.startswith('"https://') and value.endswith('"'), value
    scan = api.post(f"/api/machines/{m['id']}/runAntiVirusScan", {"Comment": "s"}).json()
    r = api.get(f"/api/machineactions/{scan['id']}/getPackageUri")
    assert r.status_code == 400 and r.json()["error"] == {
        "code": "InvalidInput",
        "message": "Provided Guid is not a valid id for a CollectInvestigationPackage action",
        "target": r.headers["request-id"],
    }
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
    assert api.post(f"/api/machineactions/{NO_ACTION}/cancel", {"Comment": "x"}).status_code == 404


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
    assert api.get(f"/api/machineactions/{NO_ACTION}").status_code == 404
    # an action id is an Edm.Guid: anything else (here a machine id) is a 400, worded as a real answer
    machine_id = "f2e6b91797d790012e3487210a3796ae1f52806f"
    r = api.get(f"/api/machineactions/{machine_id}")
    assert r.status_code == 400 and r.json()["error"]["code"] == "BadRequest"
    assert r.json()["error"]["message"] == (
        f"The key value ({machine_id}) from request is not valid. The key value should be format of type "
        "'Edm.Guid'."
    )


@pytest.mark.parametrize(
    ("action", "body", "platform", "allowed"),
    [
        ("isolate", {"IsolationType": "Selective"}, "Linux", False),
        ("isolate", {"IsolationType": "Selective"}, "WindowsServer2019", False),
        ("isolate", {"IsolationType": "Full"}, "Linux", True),
        ("restrictCodeExecution", {}, "macOS", False),
        ("restrictCodeExecution", {}, "Windows11", True),
        ("offboard", {}, "macOS", False),
        ("offboard", {}, "WindowsServer2022", True),
    ],
)
def test_documented_platform_rules(
    api: Api, action: str, body: dict[str, str], platform: str, allowed: bool
) -> None:
    m = _machine(api, f"osPlatform eq '{platform}'")
    r = api.post(f"/api/machines/{m['id']}/{action}", {"Comment": "x", **body})
    if allowed:
        assert r.status_code == 201, r.text
    else:
        assert r.status_code == 400 and r.json()["error"]["code"] == "OsPlatformNotSupported"
        assert r.json()["error"]["message"] == f"OS Platform {platform} isn't supported for this action."


def test_old_windows_10_is_refused_for_selective_isolation(
    api: Api, state: EmulatorState, seeded: str
) -> None:
    m = _machine(api, "osPlatform eq 'Windows10'")
    state.defender.machines.save(seeded, {**m, "version": "1703", "osBuild": 15063})
    r = api.post(f"/api/machines/{m['id']}/isolate", {"Comment": "x", "IsolationType": "Selective"})
    assert r.status_code == 400 and r.json()["error"] == {
        "code": "ClientVersionNotSupported",
        "message": "Isolate is supported on client version 1709 and above.",
        "target": r.headers["request-id"],
    }
    assert api.post(f"/api/machines/{m['id']}/isolate", {"Comment": "x"}).status_code == 201  # full: 1703+


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
