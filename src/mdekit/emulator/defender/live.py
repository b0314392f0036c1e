"""Live response sessions: planned when requested, progressed on the virtual clock, with results.

A session is a ``LiveResponse`` machine action (the one action lifecycle of
:mod:`mdekit.emulator.defender.actions`: Pending, InProgress, then its outcome). When it is
requested, every command is *planned*: when it starts and ends (seconds after the session starts
running), whether it completes or fails and why, and its result -- simulated against the
machine's file system and the library as they are then. Reading the action later shows each
command's progress at the virtual now; a PutFile takes effect on the machine when it completes.

Rules (run-live-response, service-facts-2 §2.1): commands run one at a time; after a failed
command the later ones never run (they stay ``Created``); RunScript runs library scripts only and
stops after 10 minutes; a machine that is not available (``Inactive``) queues the session for
three days, then it times out; one session per machine at a time (400
``ActiveRequestAlreadyExists``); at most 25 sessions running in a tenant (429).

What a script "does" is set per script name from the control plane (:class:`ScriptBehaviours`):
exit code, output, errors and duration; by default it exits 0 after 10 seconds and echoes its
arguments.
"""

from __future__ import annotations

import hashlib
import math
import sqlite3
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from mdekit.catalog import LIVE_RESPONSE, operation
from mdekit.emulator.clock import VirtualClock, format_odata_time
from mdekit.emulator.db import Database
from mdekit.emulator.defender.actions import ActionStore
from mdekit.emulator.defender.filesystem import FileEntry, MachineFiles, is_windows, path_key, put_file_path
from mdekit.emulator.defender.jsonio import dumps, loads
from mdekit.emulator.defender.library import LibraryStore
from mdekit.emulator.defender.machines import MachineStore
from mdekit.emulator.defender.throttling import Throttle
from mdekit.emulator.defender.wire import ApiFailure, bad_request

__all__ = ["Command", "LiveResponse", "ScriptBehaviours"]

_META = "defender_script_behaviour"
DEFAULT_SCRIPT: dict[str, Any] = {"exitCode": 0, "output": "{args}", "errors": "", "durationSeconds": 10.0}
#: Emulated transfer speed of GetFile/PutFile (bytes per second) and their fixed start-up cost.
_RATE = 10 * 1024 * 1024
_SETUP = 2.0
_MB = 1024 * 1024


@dataclass(frozen=True)
class Command:
    """One requested command: its type, its parameters by key, and the request's own form."""

    type: str
    params: dict[str, str]
    raw: dict[str, Any]


class ScriptBehaviours:
    """What each library script does when run, by script name (case-insensitive); persisted."""

    def __init__(self, db: Database) -> None:
        self.db = db

    def all(self) -> dict[str, dict[str, Any]]:
        """``{"*": default, "<name>": {...}}``."""
        return {"*": dict(DEFAULT_SCRIPT), **(self.db.get_meta(_META) or {})}

    def get(self, name: str) -> dict[str, Any]:
        """The behaviour of script *name*."""
        stored = self.db.get_meta(_META) or {}
        return {**DEFAULT_SCRIPT, **stored.get(name.lower(), {})}

    def set(self, name: str, behaviour: dict[str, Any]) -> dict[str, Any]:
        """Set (merge) script *name*'s behaviour; returns the full one."""
        stored = self.db.get_meta(_META) or {}
        stored[name.lower()] = {**stored.get(name.lower(), {}), **behaviour}
        self.db.set_meta(_META, stored)
        return self.get(name)

    def remove(self, name: str) -> bool:
        """Back to the default for *name*; ``False`` if it had none of its own."""
        stored = self.db.get_meta(_META) or {}
        found = stored.pop(name.lower(), None) is not None
        self.db.set_meta(_META, stored)
        return found

    def reset(self) -> None:
        """Every script back to the default."""
        self.db.set_meta(_META, {})


@dataclass
class _Step:
    """A command's plan: offsets after the session starts (``None``: never runs), outcome, result."""

    start: float | None = None
    end: float | None = None
    status: str = "Created"
    errors: list[str] = field(default_factory=list)
    result: dict[str, Any] | None = None


def _iso(ts: float) -> str:
    return format_odata_time(datetime.fromtimestamp(ts, UTC))


def _transfer_seconds(size: int) -> float:
    return _SETUP + size / _RATE


class LiveResponse:
    """Live response sessions of every tenant; registered as the ``LiveResponse`` action hook."""

    def __init__(
        self,
        db: Database,
        clock: VirtualClock,
        machines: MachineStore,
        actions: ActionStore,
        library: LibraryStore,
        files: MachineFiles,
        throttle: Throttle,
    ) -> None:
        self.db = db
        self.clock = clock
        self.machines = machines
        self.actions = actions
        self.library = library
        self.files = files
        self.throttle = throttle
        self.scripts = ScriptBehaviours(db)
        actions.hooks["LiveResponse"] = self

    # -- starting a session ---------------------------------------------------------------------
    def start(
        self,
        tenant: str,
        app_id: str,
        machine: dict[str, Any],
        action: dict[str, Any],
        commands: list[Command],
    ) -> dict[str, Any]:
        """Plan and store a new session (*action* from ``new_action``); the action as answered."""
        self._check_library(tenant, commands)
        self.actions.settle(tenant)
        timing = self.actions.timing.for_type("LiveResponse")
        pending, run, outcome, steps = self._plan(tenant, machine, commands, timing)
        action["commands"] = [
            {
                "index": i,
                "startTime": None,
                "endTime": None,
                "commandStatus": "Created",
                "errors": [],
                "command": cmd.raw,
            }
            for i, cmd in enumerate(commands)
        ]
        with self.db.tx() as c:
            self._check_sessions(c, tenant)
            self.actions.create(tenant, app_id, action, timeline=(pending, run, outcome))
            c.executemany(
                "INSERT INTO def_live_commands (tenant, action_id, idx, start_offset, end_offset, status, "
                "errors, result) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                [
                    (
                        tenant,
                        action["id"],
                        i,
                        s.start,
                        s.end,
                        s.status,
                        dumps(s.errors),
                        dumps(s.result) if s.result is not None else None,
                    )
                    for i, s in enumerate(steps)
                ],
            )
        return action

    def _check_library(self, tenant: str, commands: list[Command]) -> None:
        # The service knows its library: a command naming a file that is not there is refused with
        # the request (status and code UNVERIFIED; the docs only say RunScript runs library scripts).
        for cmd in commands:
            name = cmd.params.get("ScriptName") or cmd.params.get("FileName")
            if name is not None and self.library.get(tenant, name) is None:
                raise bad_request("InvalidInput", f"File {name} does not exist in the live response library")

    def _check_sessions(self, c: sqlite3.Connection, tenant: str) -> None:
        """429 when the tenant already runs as many sessions as allowed (25, scaled by the throttle)."""
        limit = operation("actions.live_response").limit.concurrent
        if limit is None or not self.throttle.enabled:
            return
        allowed = max(1, math.floor(limit * self.throttle.scale))
        rows = c.execute(
            "SELECT created_at + pending_seconds + run_seconds AS ends FROM def_actions WHERE tenant = ? "
            "AND type = 'LiveResponse' AND settled = 0",
            (tenant,),
        ).fetchall()
        if len(rows) < allowed:
            return
        wait = max(1, math.ceil(min(r["ends"] for r in rows) - self.clock.time()))
        raise ApiFailure(
            429,
            "TooManyRequests",
            f"Too many concurrent live response sessions: {len(rows)} are running, {allowed} allowed. "
            f"Try again in {wait} seconds.",
            headers={"Retry-After": str(wait)},
        )

    def _plan(
        self, tenant: str, machine: dict[str, Any], commands: list[Command], timing: dict[str, Any]
    ) -> tuple[float, float, str, list[_Step]]:
        """``(pending seconds, run seconds, outcome, steps)`` of a new session on *machine*."""
        if machine.get("healthStatus") == "Inactive":
            # Not available: queued for three days, then timed out without running anything.
            return float(LIVE_RESPONSE.queue_seconds), 0.0, "TimeOut", [_Step() for _ in commands]
        pending = float(timing["pendingSeconds"])
        if timing["outcome"] != "Succeeded":  # the control plane forces the outcome: nothing runs
            return pending, float(timing["runSeconds"]), str(timing["outcome"]), [_Step() for _ in commands]
        view = self.files.listing(tenant, machine)
        steps: list[_Step] = []
        t, failed = 0.0, False
        for cmd in commands:
            if failed:
                steps.append(_Step())
                continue
            duration, step = self._simulate(tenant, machine, cmd, view)
            step.start, step.end = t, t + duration
            t += duration
            failed = step.status == "Failed"
            steps.append(step)
        return pending, t, "Failed" if failed else "Succeeded", steps

    def _simulate(
        self, tenant: str, machine: dict[str, Any], cmd: Command, view: dict[str, FileEntry]
    ) -> tuple[float, _Step]:
        platform = machine.get("osPlatform")
        if cmd.type == "PutFile":
            name = cmd.params["FileName"]
            entity = self.library.get(tenant, name) or {}
            content = self.library.content(tenant, name) or b""
            limit = (
                LIVE_RESPONSE.put_file_bytes_windows
                if is_windows(platform)
                else LIVE_RESPONSE.put_file_bytes_other
            )
            if len(content) > limit:
                return _SETUP, _Step(
                    status="Failed",
                    errors=[f"File {name} is larger than the {limit // _MB} MB PutFile limit on {platform}"],
                )
            dest = put_file_path(platform, entity.get("fileName", name))
            sha1 = hashlib.sha1(content).hexdigest()
            result = {
                "kind": "put",
                "path": dest,
                "size": len(content),
                "blob": entity.get("sha256"),
                "sha1": sha1,
            }
            view[path_key(platform, dest)] = FileEntry(
                dest, len(content), sha1, "putfile", blob=entity.get("sha256")
            )
            return _transfer_seconds(len(content)), _Step(status="Completed", result=result)
        if cmd.type == "RunScript":
            return self._run_script(cmd)
        path = cmd.params["Path"]
        entry = view.get(path_key(platform, path))
        if entry is None:
            # Wording UNVERIFIED: the command fails and names the path.
            return _SETUP, _Step(status="Failed", errors=[f"File {path} was not found on the device"])
        if entry.size > LIVE_RESPONSE.get_file_bytes:
            return _SETUP, _Step(
                status="Failed",
                errors=[
                    f"File {path} is {entry.size} bytes, larger than the "
                    f"{LIVE_RESPONSE.get_file_bytes // 1024**3} GB GetFile limit"
                ],
            )
        result = {
            "kind": "file",
            "path": entry.path,
            "size": entry.size,
            "blob": entry.blob,
            "text": entry.content.decode("latin-1") if entry.content is not None else None,
            "machineId": machine["id"],
        }
        return _transfer_seconds(entry.size), _Step(status="Completed", result=result)

    def _run_script(self, cmd: Command) -> tuple[float, _Step]:
        name, args = cmd.params["ScriptName"], cmd.params.get("Args", "")
        behaviour = self.scripts.get(name)
        duration = float(behaviour["durationSeconds"])
        timeout = float(LIVE_RESPONSE.script_timeout_seconds)
        if duration > timeout:
            # Error text UNVERIFIED; the 10-minute stop is documented.
            return timeout, _Step(status="Failed", errors=[f"Script {name} timed out after 10 minutes"])
        transcript = {
            "script_name": name,
            "exit_code": int(behaviour["exitCode"]),
            "script_output": str(behaviour["output"]).replace("{args}", args).replace("{name}", name),
            "script_errors": str(behaviour["errors"]).replace("{args}", args).replace("{name}", name),
        }
        # A non-zero exit code still completes the command: the transcript carries it (UNVERIFIED).
        return duration, _Step(status="Completed", result={"kind": "transcript", "transcript": transcript})

    # -- progress (the action hook) ---------------------------------------------------------------
    def progress(
        self, c: sqlite3.Connection, tenant: str, action: dict[str, Any], run_start: float, now: float
    ) -> float | None:
        """Bring *action*'s ``commands`` to their state at *now* and apply completed PutFiles; the
        time of the latest change, or ``None``."""
        rows = c.execute(
            "SELECT idx, start_offset, end_offset, status, errors, result, applied FROM def_live_commands "
            "WHERE tenant = ? AND action_id = ? ORDER BY idx",
            (tenant, action["id"]),
        ).fetchall()
        changed: float | None = None
        for row in rows:
            if row["start_offset"] is None or now < run_start + row["start_offset"]:
                continue
            cmd = action["commands"][row["idx"]]
            start, end = run_start + row["start_offset"], run_start + row["end_offset"]
            done = now >= end
            state = {
                "startTime": _iso(start),
                "endTime": _iso(end) if done else None,
                # While it runs a command stays "Created" (the documented values are Created,
                # Completed and Failed; a running value is UNVERIFIED).
                "commandStatus": row["status"] if done else "Created",
                "errors": loads(row["errors"]) if done else [],
            }
            if any(cmd[k] != v for k, v in state.items()):
                cmd.update(state)
                changed = max(changed or 0.0, end if done else start)
            if done and not row["applied"] and row["status"] == "Completed" and row["result"]:
                self._apply(c, tenant, action["machineId"], loads(row["result"]))
                c.execute(
                    "UPDATE def_live_commands SET applied = 1 WHERE tenant = ? AND action_id = ? AND idx = ?",
                    (tenant, action["id"], row["idx"]),
                )
        return changed

    def _apply(self, c: sqlite3.Connection, tenant: str, machine_id: str, result: dict[str, Any]) -> None:
        if result.get("kind") != "put":
            return
        machine = self.machines.get(tenant, machine_id)
        if machine is not None:
            self.files.put(
                c,
                tenant,
                machine,
                result["path"],
                blob=result["blob"],
                size=result["size"],
                sha1=result["sha1"],
            )

    # -- results ----------------------------------------------------------------------------------
    def result(self, tenant: str, action: dict[str, Any], index: int) -> dict[str, Any]:
        """The downloadable result of command *index* of a settled *action*; 404 otherwise.

        404 (as getPackageUri answers for an unfinished package) for: another type of action, an
        index it does not have, a command not completed, a PutFile (no result) -- the status and
        code the service gives each case are UNVERIFIED.
        """
        commands = action.get("commands") or []
        missing = ApiFailure(
            404,
            "ResourceNotFound",
            f"Live response result of command {index} of action {action['id']} was not found",
        )
        if action.get("type") != "LiveResponse" or not 0 <= index < len(commands):
            raise missing
        row = self.db.query_one(
            "SELECT result FROM def_live_commands WHERE tenant = ? AND action_id = ? AND idx = ?",
            (tenant, action["id"], index),
        )
        found = loads(row["result"]) if row and row["result"] else None
        if commands[index]["commandStatus"] != "Completed" or found is None or found["kind"] == "put":
            raise missing
        return dict(found)
