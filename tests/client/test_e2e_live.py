"""``client.live_response`` and ``client.library`` end to end against the emulator: scripts,
GetFile streamed to disk, PutFile, the library, never replaying into another session, fan-out under
a concurrency limit, investigation packages; in-process and over the HTTPS socket, sync and async.

The clients sleep by moving the emulator's virtual clock, so sessions of minutes take no time.
"""

from __future__ import annotations

import asyncio
import fnmatch
import hashlib
import json
import zipfile
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from mdekit.client.live import DownloadError, get_file, put_file, run_script
from mdekit.errors import (
    ActionAlreadyPendingError,
    BadRequestError,
    ConfigurationError,
    NotFoundError,
    PermissionMissingError,
)
from mdekit.models import LibraryFile

HOSTS = "C:\\Windows\\System32\\drivers\\etc\\hosts"
#: Where PutFile puts a library file on Windows.
DOWNLOADS = "C:\\ProgramData\\Microsoft\\Windows Defender Advanced Threat Protection\\Downloads\\"


@pytest.fixture(scope="module")
def lab(env: Any, full_app: dict[str, Any]) -> dict[str, Any]:
    env.seed({"machines": 30, "alerts": 120, "seed": 7})
    r = env.control.post(
        "/_emulator/scripts", json={"name": "triage.ps1", "exitCode": 0, "durationSeconds": 20}
    )
    assert r.status_code == 200, r.text
    return full_app


def _windows(c: Any, n: int = 1) -> list[Any]:
    machines = c.machines.list(filter="osPlatform eq 'Windows11' and healthStatus eq 'Active'").all()
    assert len(machines) >= n
    return machines[:n]


def _files(env: Any, machine_id: str) -> dict[str, dict[str, Any]]:
    r = env.control.get(f"/_emulator/tenants/{env.tid}/machines/{machine_id}/files")
    assert r.status_code == 200, r.text
    return {f["path"]: f for f in r.json()["value"]}


def _upload_triage(c: Any) -> None:
    c.library.upload(b"param($Days)\nGet-EventLog\n", name="triage.ps1", override=True)


@pytest.mark.parametrize("socket", [False, True], ids=["in-process", "https-socket"])
def test_run_script_returns_its_transcript(env: Any, lab: dict[str, Any], socket: bool) -> None:
    env.control.post(
        "/_emulator/scripts", json={"name": "fail.ps1", "exitCode": 2, "errors": "denied {args}"}
    )
    with env.client(lab, socket=socket) as c:
        _upload_triage(c)
        c.library.upload(b"exit 2", name="fail.ps1", override=True)
        (m,) = _windows(c)
        result = c.live_response.run_script(m.id, "triage.ps1", "-Days 3", comment="triage")
        assert result.ok and result.status == "Succeeded"
        assert result.action.type == "LiveResponse" and result.action.requestor_comment == "triage"
        t = result.transcript
        assert t is not None and (t.script_name, t.exit_code, t.script_output) == ("triage.ps1", 0, "-Days 3")
        failed = c.live_response.run_script(m.id, "fail.ps1", "x")
        assert failed.status == "Succeeded" and not failed.ok  # completed, but the script exited 2
        assert failed.transcript is not None and failed.transcript.script_errors == "denied x"


def test_get_file_streams_the_file_to_disk(env: Any, lab: dict[str, Any], tmp_path: Path) -> None:
    with env.client(lab) as c:
        (m,) = _windows(c)
        listed = _files(env, m.id)[HOSTS]
        result = c.live_response.get_file(m.id, HOSTS, to=tmp_path)
        assert result.ok and result.path == tmp_path / "hosts"
        saved = result.path.read_bytes()
        assert len(saved) == listed["size"] == result.commands[0].size
        assert hashlib.sha1(saved).hexdigest() == listed["sha1"]
        assert not list(tmp_path.glob("*.part"))
        # a file path as the target, and a missing file: the command fails, nothing is written
        named = c.live_response.get_file(m.id, HOSTS, to=tmp_path / "copy.txt")
        assert named.path == tmp_path / "copy.txt" and named.path.read_bytes() == saved
        missing = c.live_response.get_file(m.id, "C:\\nowhere\\x.txt", to=tmp_path / "x.txt")
        assert missing.status == "Failed" and not missing.ok and missing.path is None
        assert missing.errors == ["#0 GetFile: File C:\\nowhere\\x.txt was not found on the device"]
        assert not (tmp_path / "x.txt").exists()
        with pytest.raises(ConfigurationError, match="is not a directory"):
            c.live_response.get_file(m.id, HOSTS, to=tmp_path / "no" / "such" / "dir.txt")


def test_put_file_then_run_and_get_in_one_session(env: Any, lab: dict[str, Any], tmp_path: Path) -> None:
    tool = bytes(range(256)) * 64
    with env.client(lab) as c:
        _upload_triage(c)
        item = c.library.upload(tool, name="tool.exe", description="triage tool", override=True)
        assert isinstance(item, LibraryFile) and item.sha256 == hashlib.sha256(tool).hexdigest()
        (m,) = _windows(c)
        result = c.live_response.run(
            m.id,
            [
                put_file("tool.exe"),
                run_script("triage.ps1"),
                get_file(HOSTS),
                get_file(DOWNLOADS + "tool.exe"),
            ],
            to=tmp_path,
        )
        assert [(r.index, r.type, r.status) for r in result.commands] == [
            (0, "PutFile", "Completed"),
            (1, "RunScript", "Completed"),
            (2, "GetFile", "Completed"),
            (3, "GetFile", "Completed"),
        ]
        assert {p.name for p in tmp_path.iterdir()} == {"hosts", "tool.exe"}
        assert (tmp_path / "tool.exe").read_bytes() == tool  # put, then collected back in the same session
        assert _files(env, m.id)[DOWNLOADS + "tool.exe"]["size"] == len(tool)
        with pytest.raises(ConfigurationError, match="order"):
            c.live_response.run(m.id, [get_file(HOSTS), put_file("tool.exe")])


def test_library_list_upload_delete(env: Any, lab: dict[str, Any], tmp_path: Path) -> None:
    script = tmp_path / "hunt.ps1"
    script.write_bytes(b"param($Name)\n")
    with env.client(lab) as c:
        item = c.library.upload(
            script, description="hunt", parameters_description="-Name", has_parameters=True
        )
        assert (item.file_name, item.description, item.has_parameters) == ("hunt.ps1", "hunt", True)
        assert "hunt.ps1" in {f.file_name for f in c.library.list()}
        with pytest.raises(BadRequestError, match="already exists"):
            c.library.upload(script)
        c.library.upload(b"new", name="hunt.ps1", override=True)
        c.library.delete("hunt.ps1")
        assert "hunt.ps1" not in {f.file_name for f in c.library.list()}
        with pytest.raises(NotFoundError):
            c.library.delete("hunt.ps1")
        big = tmp_path / "big.bin"
        with big.open("wb") as f:
            f.truncate(20 * 1024 * 1024 + 1)
        sent = len(env.state.journal.entries())
        with pytest.raises(ConfigurationError, match="up to 20 MB"):
            c.library.upload(big)  # refused before anything is read or sent
        assert len(env.state.journal.entries()) == sent


def test_an_open_session_is_reused_only_for_the_same_commands(env: Any, lab: dict[str, Any]) -> None:
    with env.client(lab) as c:
        _upload_triage(c)
        (m,) = _windows(c)
        first = c.live_response.start(m.id, [run_script("triage.ps1", "-Days 1")])
        assert first.status == "Pending"
        with pytest.raises(ActionAlreadyPendingError, match=first.id):
            c.live_response.start(m.id, [run_script("triage.ps1", "-Days 2")])
        same = c.live_response.start(m.id, [run_script("triage.ps1", "-Days 1")])
        assert same.id == first.id and same.reused
        finished = c.live_response.run(m.id, [run_script("triage.ps1", "-Days 1")])  # follows it
        assert finished.action.id == first.id and finished.ok


def test_run_many_keeps_to_the_limit_and_reports_each_machine(env: Any, lab: dict[str, Any]) -> None:
    with env.client(lab) as c:
        _upload_triage(c)
        machines = [m.id for m in _windows(c, 5)]
        done: list[str] = []
        started: dict[str, str] = {}
        outcomes = c.live_response.run_many(
            [*machines, "no-such-machine"],
            [run_script("triage.ps1", "fleet")],
            limit=2,
            on_start=lambda machine, action: started.setdefault(machine, action.id),
            on_done=lambda o: done.append(o.key),
        )
        assert started == {o.key: o.result.action.id for o in outcomes[:5]}  # type: ignore[union-attr]
        assert [o.key for o in outcomes] == [*machines, "no-such-machine"] and sorted(done) == sorted(
            o.key for o in outcomes
        )
        assert all(o.ok and o.result.transcript.script_output == "fleet" for o in outcomes[:5])  # type: ignore[union-attr]
        assert isinstance(outcomes[-1].error, NotFoundError)
        spans = [
            (_ts(o.result.action.creation_date_time_utc), _ts(o.result.action.last_update_date_time_utc))  # type: ignore[union-attr]
            for o in outcomes[:5]
        ]
        overlap = max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans)
        assert overlap == 2  # sessions did run side by side, never more than the limit
        with pytest.raises(ConfigurationError, match="between 1 and 25"):
            c.live_response.run_many(machines, [run_script("triage.ps1")], limit=26)


def test_run_many_saves_each_machine_files_where_asked(env: Any, lab: dict[str, Any], tmp_path: Path) -> None:
    with env.client(lab) as c:
        machines = [m.id for m in _windows(c, 2)]
        by_dir = c.live_response.run_many(machines, [get_file(HOSTS)], to=tmp_path / "all", limit=2)
        assert [o.result.path for o in by_dir] == [tmp_path / "all" / m / "hosts" for m in machines]  # type: ignore[union-attr]
        chosen = {machines[0]: tmp_path / "first.txt", machines[1]: None}
        picked = c.live_response.run_many(machines, [get_file(HOSTS)], to=chosen.get, limit=2)
        assert picked[0].result.path == tmp_path / "first.txt" and picked[1].result.path is None  # type: ignore[union-attr]


def _ts(value: datetime | None) -> float:
    assert value is not None
    return value.timestamp()


def test_investigation_package_and_start_investigation(env: Any, lab: dict[str, Any], tmp_path: Path) -> None:
    with env.client(lab) as c:
        (m,) = _windows(c)
        path = c.live_response.collect_package(m.id, to=tmp_path)
        assert path.parent == tmp_path and path.name.endswith("-investigation-package.zip")
        assert "Processes/Processes.csv" in zipfile.ZipFile(path).namelist()
        investigation = c.investigations.start(m.id, "suspicious logons")
        assert investigation.id and investigation.machine_id == m.id


def test_permissions_are_checked_before_sending(env: Any, lab: dict[str, Any]) -> None:
    reader = env.app(permissions=["Machine.Read.All"])
    with env.client(reader) as c:
        with pytest.raises(PermissionMissingError, match=r"Machine\.LiveResponse"):
            c.live_response.run_script("any", "triage.ps1")
        with pytest.raises(PermissionMissingError, match=r"Library\.Manage"):
            c.library.list()


def test_async_client_runs_a_script_over_the_socket(env: Any, lab: dict[str, Any]) -> None:
    async def go() -> tuple[int | None, str, int]:
        async with env.aclient(lab) as c:
            await c.library.upload(b"x", name="triage.ps1", override=True)
            machines = [m.id async for m in c.machines.list(filter="osPlatform eq 'Windows11'", limit=3)]
            result = await c.live_response.run_script(machines[0], "triage.ps1", "async")
            many = await c.live_response.run_many(machines[1:3], [run_script("triage.ps1")], limit=2)
            assert result.transcript is not None
            return result.transcript.exit_code, result.transcript.script_output, sum(o.ok for o in many)

    assert asyncio.run(go()) == (0, "async", 2)


def test_a_refused_link_is_asked_again_and_a_failing_download_retried(env: Any, lab: dict[str, Any]) -> None:
    with env.client(lab) as c:
        _upload_triage(c)
        (m,) = _windows(c)
        action = c.live_response.run_script(m.id, "triage.ps1", "once").action
        journal = len(env.state.journal.entries())
        links = "*/GetLiveResponseResultDownloadLink*"
        for status in (403, 503):
            plan = env.faults({"path": "/investigation-actions-data/*", "status": status, "count": 1})
            body = c.live_response.download(action, 0)
            assert json.loads(body)["script_output"] == "once"
            env.control.delete(f"/_emulator/faults/{plan['id']}")
        entries = env.state.journal.entries()[journal:]
        asked = [e for e in entries if fnmatch.fnmatch(e["path"], links)]
        fetched = [e for e in entries if e["path"].startswith("/investigation-actions-data/")]
        assert all(e["appId"] == lab["appId"] for e in asked)  # the journal names the token's app...
        assert fetched and all(e["appId"] is None for e in fetched)  # ...and no token went to a SAS link
        # 403 (expired or refused): a new link; 503: the same link again after a pause
        assert len(asked) == 3
        plan = env.faults({"path": "/investigation-actions-data/*", "status": 403})
        with pytest.raises(DownloadError, match="HTTP 403"):
            c.live_response.download(action, 0)
        env.control.delete(f"/_emulator/faults/{plan['id']}")
