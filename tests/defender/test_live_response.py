"""Live response over the real HTTPS socket with real tokens: every command type, the documented
limits and errors, result links expiring on the virtual clock, the library, permissions.

The session emulator's clock is frozen for each test and moved through the control plane, as a
user's test would move it.
"""

from __future__ import annotations

import hashlib
import io
import json
import ssl
import zipfile
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mdekit.emulator.server import EmulatorServer

LR_ROLES = (
    "Machine.LiveResponse",
    "Machine.Read.All",
    "Library.Manage",
    "Alert.Read.All",
    "Alert.ReadWrite.All",
    "Machine.StopAndQuarantine",
    "Machine.CollectForensics",
)
PAGEFILE = "C:\\pagefile.sys"


class FreshToken(httpx.Auth):
    """Bearer auth that fetches a new token when the API says the one it had expired (the tests
    move the clock by days)."""

    def __init__(self, app: Any) -> None:
        self.app = app
        self.token = app.token()

    def auth_flow(self, request: httpx.Request) -> Iterator[httpx.Request]:
        request.headers["Authorization"] = f"Bearer {self.token}"
        response = yield request
        if response.status_code == 401:
            self.token = self.app.token()
            request.headers["Authorization"] = f"Bearer {self.token}"
            yield request


class Lab:
    """One seeded tenant, an app with the live response roles, and the control plane."""

    def __init__(self, emu: EmulatorServer, control: httpx.Client, app: Any) -> None:
        self.emu, self.control, self.app = emu, control, app
        self.tenant = app["tenantId"]
        self.api = httpx.Client(
            base_url=emu.url,
            verify=ssl.create_default_context(cafile=str(emu.ca_cert)),
            auth=FreshToken(app),
            timeout=30,
        )
        # Downloads carry no bearer token, as with the real SAS links.
        self.anonymous = httpx.Client(verify=ssl.create_default_context(cafile=str(emu.ca_cert)), timeout=30)

    def advance(self, seconds: float) -> None:
        assert self.control.post("/_emulator/clock", json={"advanceSeconds": seconds}).status_code == 200

    def machines(self, flt: str) -> list[dict[str, Any]]:
        r = self.api.get("/api/machines", params={"$filter": flt})
        assert r.status_code == 200, r.text
        return list(r.json()["value"])

    def windows(self) -> dict[str, Any]:
        return self.machines("osPlatform eq 'Windows11' and healthStatus eq 'Active'")[0]

    def upload(self, name: str, content: bytes, **form: str) -> httpx.Response:
        return self.api.post("/api/libraryfiles", files={"file": (name, content)}, data=form)

    def run(
        self, machine_id: str, *commands: tuple[str, dict[str, str]], comment: str = "lr test"
    ) -> httpx.Response:
        body = {
            "Commands": [
                {"type": kind, "params": [{"key": k, "value": v} for k, v in params.items()]}
                for kind, params in commands
            ],
            "Comment": comment,
        }
        return self.api.post(f"/api/machines/{machine_id}/runliveresponse", json=body)

    def action(self, action_id: str) -> dict[str, Any]:
        r = self.api.get(f"/api/machineactions/{action_id}")
        assert r.status_code == 200, r.text
        return dict(r.json())

    def link(self, action_id: str, index: int) -> httpx.Response:
        return self.api.get(
            f"/api/machineactions/{action_id}/GetLiveResponseResultDownloadLink(index={index})"
        )

    def script(self, name: str, **behaviour: Any) -> None:
        r = self.control.post("/_emulator/scripts", json={"name": name, **behaviour})
        assert r.status_code == 200, r.text

    def files(self, machine_id: str) -> dict[str, dict[str, Any]]:
        r = self.control.get(f"/_emulator/tenants/{self.tenant}/machines/{machine_id}/files")
        assert r.status_code == 200, r.text
        return {f["path"]: f for f in r.json()["value"]}


@pytest.fixture
def lab(emu: EmulatorServer, control: httpx.Client, make_app: Callable[..., Any]) -> Iterator[Lab]:
    emu.state.clock.freeze()
    app = make_app(permissions=list(LR_ROLES), display_name="responder")
    seeded = control.post(
        f"/_emulator/tenants/{app['tenantId']}/seed", json={"machines": 40, "alerts": 150, "seed": 5}
    )
    assert seeded.status_code == 200, seeded.text
    lab = Lab(emu, control, app)
    assert lab.upload("collect.ps1", b"param($Target)\nGet-Process $Target\n").status_code == 200
    yield lab
    lab.api.close()
    lab.anonymous.close()


def _windows_with_evidence(lab: Lab) -> tuple[dict[str, Any], dict[str, Any]]:
    """An active Windows machine and a File evidence item of one of its alerts."""
    for m in lab.machines("startswith(osPlatform,'Windows') and healthStatus eq 'Active'"):
        alerts = lab.api.get(f"/api/machines/{m['id']}/alerts", params={"$expand": "evidence"}).json()[
            "value"
        ]
        files = [e for a in alerts for e in a["evidence"] if e["entityType"] == "File"]
        if files:
            return m, files[0]
    raise AssertionError("the seed has no active Windows machine with alerts")


def test_run_script_progresses_on_the_clock_and_its_transcript_downloads_until_the_link_expires(
    lab: Lab,
) -> None:
    lab.script("collect.ps1", exitCode=3, output="collected {args}", errors="1 warning", durationSeconds=40)
    m = lab.windows()
    r = lab.run(m["id"], ("RunScript", {"ScriptName": "collect.ps1", "Args": "-Target lsass"}))
    assert r.status_code == 201, r.text
    action = r.json()
    assert action["@odata.context"].endswith("#MachineActions/$entity")
    assert (action["type"], action["status"], action["requestor"]) == ("LiveResponse", "Pending", "responder")
    assert action["commands"] == [
        {
            "index": 0,
            "startTime": None,
            "endTime": None,
            "commandStatus": "Created",
            "errors": [],
            "command": {
                "type": "RunScript",
                "params": [
                    {"key": "ScriptName", "value": "collect.ps1"},
                    {"key": "Args", "value": "-Target lsass"},
                ],
            },
        }
    ]
    assert lab.link(action["id"], 0).status_code == 404  # nothing to download yet
    lab.advance(31)  # default pending time: 30 s
    running = lab.action(action["id"])
    assert running["status"] == "InProgress"
    assert running["commands"][0]["startTime"] is not None and running["commands"][0]["endTime"] is None
    lab.advance(40)
    done = lab.action(action["id"])
    assert done["status"] == "Succeeded"
    assert done["commands"][0]["commandStatus"] == "Completed" and done["commands"][0]["errors"] == []
    assert done["commands"][0]["endTime"] > done["commands"][0]["startTime"]
    assert done["lastUpdateDateTimeUtc"] == done["commands"][0]["endTime"]
    link = lab.link(action["id"], 0)
    assert link.status_code == 200
    assert link.json()["@odata.context"].endswith("/api/$metadata#Edm.String")
    url = link.json()["value"]
    assert "/CustomPlaybookCommandOutput/" in url and "&sig=" in url and "se=" in url
    transcript = lab.anonymous.get(url)
    assert transcript.status_code == 200
    assert json.loads(transcript.content) == {
        "script_name": "collect.ps1",
        "exit_code": 3,
        "script_output": "collected -Target lsass",
        "script_errors": "1 warning",
    }
    lab.advance(29 * 60)
    assert lab.anonymous.get(url).status_code == 200  # valid 30 minutes
    lab.advance(61)
    expired = lab.anonymous.get(url)
    assert expired.status_code == 403
    assert "<Code>AuthenticationFailed</Code>" in expired.text
    assert "Signature not valid in the specified time frame" in expired.text
    fresh = lab.link(action["id"], 0).json()["value"]  # a new link, no need to run again
    assert lab.anonymous.get(fresh).status_code == 200
    tampered = fresh.replace("sig=", "sig=x")
    assert lab.anonymous.get(tampered).status_code == 403


def test_default_script_echoes_its_arguments(lab: Lab) -> None:
    m = lab.windows()
    action = lab.run(m["id"], ("RunScript", {"ScriptName": "COLLECT.ps1", "Args": "a b"})).json()
    lab.advance(30 + 10)
    assert lab.action(action["id"])["status"] == "Succeeded"
    transcript = lab.anonymous.get(lab.link(action["id"], 0).json()["value"]).json()
    assert transcript == {
        "script_name": "COLLECT.ps1",
        "exit_code": 0,
        "script_output": "a b",
        "script_errors": "",
    }


def test_get_file_of_an_evidence_path_returns_its_bytes(lab: Lab) -> None:
    m, ev = _windows_with_evidence(lab)
    path = f"{ev['filePath']}\\{ev['fileName']}"
    listed = lab.files(m["id"])[path]
    assert (listed["origin"], listed["sha1"]) == ("evidence", ev["sha1"])
    action = lab.run(m["id"], ("GetFile", {"Path": path.upper()})).json()  # Windows paths: any case
    lab.advance(3600)
    done = lab.action(action["id"])
    assert done["status"] == "Succeeded" and done["commands"][0]["commandStatus"] == "Completed"
    first = lab.anonymous.get(lab.link(action["id"], 0).json()["value"])
    assert first.status_code == 200 and first.headers["content-type"] == "application/octet-stream"
    assert len(first.content) == listed["size"] > 0
    again = lab.anonymous.get(lab.link(action["id"], 0).json()["value"])
    assert again.content == first.content  # the same bytes every time


def test_a_failed_command_stops_the_session_and_later_ones_never_run(lab: Lab) -> None:
    m = lab.windows()
    action = lab.run(
        m["id"],
        ("RunScript", {"ScriptName": "collect.ps1"}),
        ("GetFile", {"Path": "C:\\nowhere\\missing.txt"}),
        ("GetFile", {"Path": "C:\\Windows\\System32\\drivers\\etc\\hosts"}),
    ).json()
    lab.advance(3600)
    done = lab.action(action["id"])
    assert done["status"] == "Failed"
    statuses = [(c["index"], c["commandStatus"]) for c in done["commands"]]
    assert statuses == [(0, "Completed"), (1, "Failed"), (2, "Created")]
    assert done["commands"][1]["errors"] == ["File C:\\nowhere\\missing.txt was not found on the device"]
    assert done["commands"][2]["startTime"] is None
    assert lab.link(action["id"], 0).status_code == 200  # the script's transcript is still there
    for index in (1, 2, 7):
        r = lab.link(action["id"], index)
        assert r.status_code == 404 and r.json()["error"]["code"] == "ResourceNotFound"
    assert lab.link(action["id"], "x").status_code == 400  # type: ignore[arg-type]


def test_put_file_places_a_library_file_on_the_machine(lab: Lab) -> None:
    tool = bytes(range(256)) * 40
    assert lab.upload("tool.exe", tool, Description="triage tool").status_code == 200
    m = lab.windows()
    dest = "C:\\ProgramData\\Microsoft\\Windows Defender Advanced Threat Protection\\Downloads\\tool.exe"
    assert dest not in lab.files(m["id"])
    action = lab.run(m["id"], ("PutFile", {"FileName": "tool.exe"}), ("GetFile", {"Path": dest})).json()
    lab.advance(3600)
    done = lab.action(action["id"])
    assert [c["commandStatus"] for c in done["commands"]] == ["Completed", "Completed"]
    assert lab.files(m["id"])[dest]["origin"] == "putfile"
    r = lab.link(action["id"], 0)
    assert r.status_code == 404  # PutFile has no result
    collected = lab.anonymous.get(lab.link(action["id"], 1).json()["value"])
    assert collected.content == tool


def test_one_session_per_machine_and_library_scripts_only(lab: Lab) -> None:
    m = lab.windows()
    assert lab.run(m["id"], ("RunScript", {"ScriptName": "collect.ps1"})).status_code == 201
    again = lab.run(m["id"], ("GetFile", {"Path": PAGEFILE}))
    assert again.status_code == 400 and again.json()["error"]["code"] == "ActiveRequestAlreadyExists"
    other = lab.machines("osPlatform eq 'WindowsServer2022' and healthStatus eq 'Active'")[0]
    missing = lab.run(other["id"], ("RunScript", {"ScriptName": "not-in-library.ps1"}))
    assert missing.status_code == 400
    assert missing.json()["error"] == {
        "code": "InvalidInput",
        "message": "File not-in-library.ps1 does not exist in the live response library",
        "target": missing.headers["request-id"],
    }
    unknown = lab.run("0" * 40, ("RunScript", {"ScriptName": "collect.ps1"}))
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "ResourceNotFound"


@pytest.mark.parametrize(
    ("commands", "code", "says"),
    [
        ([], "InvalidInput", "at least one command"),
        ([{"type": "RunCommand", "params": []}], "InvalidInput", "type 'RunCommand'"),
        (
            [
                {"type": "GetFile", "params": [{"key": "Path", "value": "C:\\a"}]},
                {"type": "RunScript", "params": [{"key": "ScriptName", "value": "collect.ps1"}]},
            ],
            "InvalidInput",
            "out of order",
        ),
        ([{"type": "GetFile", "params": []}], "MissingRequiredParameter", "Parameter Path"),
        (
            [{"type": "GetFile", "params": [{"key": "path", "value": "C:\\a"}]}],
            "InvalidInput",
            "no parameter 'path'",
        ),
        ([{"type": "GetFile", "params": {"Path": "C:\\a"}}], "InvalidInput", "list of"),
        ("GetFile", "InvalidRequestBody", "must be of type array"),
    ],
)
def test_bad_commands_are_refused(lab: Lab, commands: Any, code: str, says: str) -> None:
    m = lab.windows()
    r = lab.api.post(f"/api/machines/{m['id']}/runliveresponse", json={"Commands": commands, "Comment": "x"})
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code and says in r.json()["error"]["message"], r.text


def test_run_script_times_out_after_ten_minutes(lab: Lab) -> None:
    lab.script("collect.ps1", durationSeconds=900)
    m = lab.windows()
    action = lab.run(m["id"], ("RunScript", {"ScriptName": "collect.ps1"})).json()
    lab.advance(30 + 599)
    assert lab.action(action["id"])["status"] == "InProgress"
    lab.advance(2)
    done = lab.action(action["id"])
    assert done["status"] == "Failed"
    assert done["commands"][0]["errors"] == ["Script collect.ps1 timed out after 10 minutes"]
    assert lab.link(action["id"], 0).status_code == 404


def test_an_unavailable_machine_queues_the_session_three_days_then_times_out(lab: Lab) -> None:
    m = lab.machines("healthStatus eq 'Inactive'")[0]
    action = lab.run(m["id"], ("RunScript", {"ScriptName": "collect.ps1"})).json()
    lab.advance(3 * 24 * 3600 - 60)
    assert lab.action(action["id"])["status"] == "Pending"
    lab.advance(61)
    done = lab.action(action["id"])
    assert done["status"] == "TimeOut"
    assert done["commands"][0]["commandStatus"] == "Created" and done["commands"][0]["startTime"] is None


def test_file_size_limits(lab: Lab) -> None:
    big = b"\0" * (11 * 1024 * 1024)  # over PutFile's 10 MB off Windows, under the library's 20 MB
    assert lab.upload("big.bin", big).status_code == 200
    linux = lab.machines("osPlatform eq 'Linux' and healthStatus eq 'Active'")[0]
    windows = lab.windows()
    on_linux = lab.run(linux["id"], ("PutFile", {"FileName": "big.bin"})).json()
    on_windows = lab.run(
        windows["id"], ("PutFile", {"FileName": "big.bin"}), ("GetFile", {"Path": PAGEFILE})
    ).json()
    lab.advance(3600)
    linux_done = lab.action(on_linux["id"])
    assert linux_done["status"] == "Failed"
    assert linux_done["commands"][0]["errors"] == [
        "File big.bin is larger than the 10 MB PutFile limit on Linux"
    ]
    windows_done = lab.action(on_windows["id"])
    assert [c["commandStatus"] for c in windows_done["commands"]] == ["Completed", "Failed"]
    assert "larger than the 3 GB GetFile limit" in windows_done["commands"][1]["errors"][0]


def test_unsupported_platform_is_refused(lab: Lab) -> None:
    m = lab.windows()
    machines = lab.emu.state.defender.machines
    record = machines.get(lab.tenant, m["id"])
    assert record is not None
    machines.save(lab.tenant, {**record, "osPlatform": "WindowsServer2008R2"})
    r = lab.run(m["id"], ("RunScript", {"ScriptName": "collect.ps1"}))
    assert r.status_code == 400 and r.json()["error"]["code"] == "OsPlatformNotSupported"


def test_at_most_25_sessions_run_at_once_and_ten_calls_a_minute(lab: Lab, control: httpx.Client) -> None:
    # sessions wait an hour before running, so each one stays open
    assert (
        control.post("/_emulator/actions", json={"type": "LiveResponse", "pendingSeconds": 3600}).status_code
        == 200
    )
    machines = lab.machines("healthStatus ne 'Inactive'")[:27]
    assert len(machines) >= 27
    for i in range(10):
        assert lab.run(machines[i]["id"], ("RunScript", {"ScriptName": "collect.ps1"})).status_code == 201
    throttled = lab.run(machines[10]["id"], ("RunScript", {"ScriptName": "collect.ps1"}))
    assert throttled.status_code == 429 and int(throttled.headers["Retry-After"]) >= 1
    lab.advance(60)
    for i in range(10, 25):
        lab.advance(7)  # under 10 a minute
        r = lab.run(machines[i]["id"], ("RunScript", {"ScriptName": "collect.ps1"}))
        assert r.status_code == 201, (i, r.text)
    lab.advance(7)
    refused = lab.run(machines[25]["id"], ("RunScript", {"ScriptName": "collect.ps1"}))
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "TooManyRequests"
    assert "25 are running, 25 allowed" in refused.json()["error"]["message"]
    wait = int(refused.headers["Retry-After"])
    lab.advance(wait)  # the first session has finished by then
    assert lab.run(machines[25]["id"], ("RunScript", {"ScriptName": "collect.ps1"})).status_code == 201


def test_library_list_upload_override_delete(lab: Lab) -> None:
    r = lab.api.post(
        "/api/libraryfiles",
        files={"File": ("triage.ps1", b"Get-Process")},
        data={"Description": "triage", "ParametersDescription": "-Full", "HasParameters": "true"},
    )
    assert r.status_code == 200, r.text
    item = r.json()
    assert item["@odata.context"].endswith("#LibraryFiles/$entity")
    assert {
        k: item[k] for k in ("fileName", "description", "hasParameters", "parametersDescription", "createdBy")
    } == {
        "fileName": "triage.ps1",
        "description": "triage",
        "hasParameters": True,
        "parametersDescription": "-Full",
        "createdBy": "responder",
    }
    assert item["sha256"] == hashlib.sha256(b"Get-Process").hexdigest()
    listing = lab.api.get("/api/libraryfiles").json()
    assert listing["@odata.context"].endswith("#LibraryFiles")
    assert [f["fileName"] for f in listing["value"]] == ["collect.ps1", "triage.ps1"]
    assert "parametersDescription" not in listing["value"][0]  # only when hasParameters
    exists = lab.upload("triage.ps1", b"other")
    assert exists.status_code == 400 and "already exists" in exists.json()["error"]["message"]
    replaced = lab.upload("TRIAGE.ps1", b"other", OverrideIfExists="true")
    assert replaced.status_code == 200 and replaced.json()["creationTime"] == item["creationTime"]
    assert lab.api.delete("/api/libraryfiles/triage.ps1").status_code == 204
    gone = lab.api.delete("/api/libraryfiles/triage.ps1")
    assert gone.status_code == 404 and gone.json()["error"]["code"] == "ResourceNotFound"


@pytest.mark.parametrize(
    ("kwargs", "code"),
    [
        ({"json": {"File": "x"}}, "InvalidRequestBody"),
        ({"data": {"Description": "no file"}, "files": {"other": ("a", b"")}}, "MissingRequiredParameter"),
        ({"files": {"file": ("bad name!.ps1", b"x")}}, "InvalidInput"),
        ({"files": {"file": ("x.ps1", b"x")}, "data": {"OverrideIfExists": "maybe"}}, "InvalidInput"),
        ({"files": {"file": ("huge.bin", b"\0" * (20 * 1024 * 1024 + 1))}}, "InvalidInput"),
    ],
)
def test_bad_uploads_are_refused(lab: Lab, kwargs: dict[str, Any], code: str) -> None:
    r = lab.api.post("/api/libraryfiles", **kwargs)
    assert r.status_code == 400, r.text
    assert r.json()["error"]["code"] == code


def test_permissions(lab: Lab, make_app: Callable[..., Any], emu: EmulatorServer) -> None:
    m = lab.windows()
    done = lab.run(m["id"], ("RunScript", {"ScriptName": "collect.ps1"})).json()
    lab.advance(60)
    verify = ssl.create_default_context(cafile=str(emu.ca_cert))
    reader = make_app(permissions=["Machine.Read.All"], tenant=lab.tenant, display_name="reader")
    with httpx.Client(base_url=emu.url, verify=verify, headers=reader.headers()) as api:
        denied = api.post(f"/api/machines/{m['id']}/runliveresponse", json={"Commands": [], "Comment": "x"})
        assert denied.status_code == 403
        assert denied.json()["error"]["message"].startswith(
            "Missing application roles. API required roles: Machine.LiveResponse,"
        )
        assert api.get("/api/libraryfiles").status_code == 403
        assert api.delete("/api/libraryfiles/collect.ps1").status_code == 403
        # reading results needs only Machine.Read.All (or Machine.ReadWrite.All)
        link = api.get(f"/api/machineactions/{done['id']}/GetLiveResponseResultDownloadLink(index=0)")
        assert link.status_code == 200
    librarian = make_app(permissions=["Library.Manage"], tenant=lab.tenant, display_name="librarian")
    with httpx.Client(base_url=emu.url, verify=verify, headers=librarian.headers()) as api:
        assert api.get("/api/libraryfiles").status_code == 200
        assert (
            api.get(
                f"/api/machineactions/{done['id']}/GetLiveResponseResultDownloadLink(index=0)"
            ).status_code
            == 403
        )


def test_started_investigation_runs_on_the_clock(lab: Lab, control: httpx.Client) -> None:
    m = lab.windows()
    r = lab.api.post(f"/api/machines/{m['id']}/startInvestigation", json={"Comment": "look"})
    assert r.status_code == 201, r.text
    inv = r.json()
    assert inv["@odata.context"].endswith("#Investigations/$entity")
    assert (inv["state"], inv["endTime"], inv["machineId"], inv["triggeringAlertId"]) == (
        "Running",
        None,
        m["id"],
        None,
    )
    listed = lab.api.get(
        "/api/investigations", params={"$filter": f"machineId eq '{m['id']}' and state eq 'Running'"}
    )
    assert inv["id"] in [i["id"] for i in listed.json()["value"]]
    lab.advance(899)
    assert lab.api.get(f"/api/investigations/{inv['id']}").json()["state"] == "Running"
    lab.advance(2)
    final = lab.api.get(f"/api/investigations/{inv['id']}").json()
    assert final["state"] in ("SuccessfullyRemediated", "Benign") and final["endTime"] is not None
    control.post("/_emulator/investigations", json={"runSeconds": 60, "state": "PartiallyRemediated"})
    second = lab.api.post(f"/api/machines/{m['id']}/startInvestigation", json={"Comment": "again"}).json()
    lab.advance(61)
    assert lab.api.get(f"/api/investigations/{second['id']}").json()["state"] == "PartiallyRemediated"
    linux = lab.machines("osPlatform eq 'Linux'")[0]
    unsupported = lab.api.post(
        f"/api/machines/{linux['id']}/startInvestigation", json={"Comment": "x"}
    ).json()
    assert unsupported["state"] == "UnsupportedOs"
    no_comment = lab.api.post(f"/api/machines/{m['id']}/startInvestigation", json={})
    assert no_comment.status_code == 400 and no_comment.json()["error"]["code"] == "MissingRequiredParameter"


def test_investigation_package_is_a_real_zip_behind_an_expiring_link(lab: Lab) -> None:
    m = lab.windows()
    collect = lab.api.post(
        f"/api/machines/{m['id']}/collectInvestigationPackage", json={"Comment": "pkg"}
    ).json()
    lab.advance(600)
    link = lab.api.get(f"/api/machineactions/{collect['id']}/GetPackageUri")
    assert link.status_code == 200
    url = link.json()["value"]
    assert "/safedownload/WDATP_Investigation_Package.zip?token=" in url
    package = lab.anonymous.get(url)
    assert package.status_code == 200 and package.headers["content-type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(package.content)).namelist()
    assert "Processes/Processes.csv" in names and "System Information/SystemInformation.txt" in names
    info = zipfile.ZipFile(io.BytesIO(package.content)).read("System Information/SystemInformation.txt")
    assert m["computerDnsName"].encode() in info
    lab.advance(31 * 60)
    assert lab.anonymous.get(url).status_code == 403


def test_stop_and_quarantine_removes_the_file_from_the_machine(lab: Lab) -> None:
    m, ev = _windows_with_evidence(lab)
    path = f"{ev['filePath']}\\{ev['fileName']}"
    r = lab.api.post(
        f"/api/machines/{m['id']}/StopAndQuarantineFile", json={"Comment": "q", "Sha1": ev["sha1"]}
    )
    assert r.status_code == 201
    state = lab.control.get(f"/_emulator/tenants/{lab.tenant}/machines/{m['id']}/state").json()
    assert state["quarantinedFiles"] == []
    lab.advance(600)
    state = lab.control.get(f"/_emulator/tenants/{lab.tenant}/machines/{m['id']}/state").json()
    assert path in [q["path"] for q in state["quarantinedFiles"]]
    assert path not in lab.files(m["id"])
    action = lab.run(m["id"], ("GetFile", {"Path": path})).json()
    lab.advance(600)
    assert lab.action(action["id"])["commands"][0]["commandStatus"] == "Failed"
    linux = lab.machines("osPlatform eq 'Linux'")[0]
    refused = lab.api.post(
        f"/api/machines/{linux['id']}/StopAndQuarantineFile", json={"Comment": "q", "Sha1": ev["sha1"]}
    )
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "OsPlatformNotSupported"


def test_control_plane_files_and_scripts(lab: Lab, control: httpx.Client) -> None:
    m = lab.windows()
    base = f"/_emulator/tenants/{lab.tenant}/machines/{m['id']}/files"
    added = control.post(base, json={"path": "C:\\Temp\\dump.bin", "size": 3 * 1024 * 1024 + 17})
    assert added.status_code == 201 and added.json()["origin"] == "control"
    assert control.post(base, json={"path": "C:\\x", "size": 1, "content": "x"}).status_code == 400
    action = lab.run(m["id"], ("GetFile", {"Path": "C:\\Temp\\dump.bin"})).json()
    lab.advance(600)
    with lab.anonymous.stream("GET", lab.link(action["id"], 0).json()["value"]) as body:
        size = sum(len(chunk) for chunk in body.iter_bytes())
    assert size == 3 * 1024 * 1024 + 17
    scripts = control.get("/_emulator/scripts").json()["value"]
    assert scripts["*"] == {"exitCode": 0, "output": "{args}", "errors": "", "durationSeconds": 10.0}
    assert control.post("/_emulator/scripts", json={"name": "a.ps1", "exitCode": "1"}).status_code == 400
    assert control.post("/_emulator/scripts", json={"exitCode": 1}).status_code == 400
    assert control.delete("/_emulator/scripts/none.ps1").status_code == 404
