"""Live response: run commands on machines, wait for them, fetch their results; the library.

::

    result = mde.live_response.run_script(machine_id, "collect.ps1", "-Days 3")
    print(result.transcript.exit_code, result.transcript.script_output)
    mde.live_response.get_file(machine_id, r"C:\\Windows\\Temp\\dump.zip", to="dump.zip")
    for outcome in mde.live_response.run_many(machine_ids, [run_script("inventory.ps1")], limit=10):
        print(outcome.key, outcome.result.status if outcome.ok else outcome.error)

A session is one ``runliveresponse`` request (a ``LiveResponse`` machine action) whose commands
run one at a time on the machine. The flows here send it, poll the action until it is terminal,
then fetch each completed command's result through its download link: a RunScript transcript
(JSON) or a GetFile file, streamed to disk. Links are pre-signed URLs: they are fetched without
the bearer token, and asked for again if one expired before it was used.

Never a blind replay: if the request's fate is unknown (connection lost) or the machine already
has a session, the client looks the machine's open session up; it is used only if it runs the very
same commands, otherwise the call fails with :class:`~mdekit.errors.ActionAlreadyPendingError`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PureWindowsPath
from typing import Any

from mdekit.catalog import LIVE_RESPONSE, operation
from mdekit.client.actions import ActionTimeoutError
from mdekit.client.base import C, Family, endpoint, procedure
from mdekit.client.core import Call, Reply, make_call
from mdekit.client.fanout import Outcome, fan_out
from mdekit.client.flow import Fetch, Flow, Multipart, Options, Sleep, call_flow
from mdekit.client.retry import RetryPolicy
from mdekit.errors import ActionAlreadyPendingError, ApiError, ConfigurationError, MdeError, TransportError
from mdekit.models import LibraryFile, MachineAction, ScriptTranscript

__all__ = [
    "ActionFailedError",
    "CommandResult",
    "DownloadError",
    "Library",
    "LiveResponse",
    "LiveResponseResult",
    "get_file",
    "put_file",
    "run_script",
]

#: The service runs at most this many sessions per tenant at once (more are refused with 429).
MAX_SESSIONS = operation("actions.live_response").limit.concurrent or 25


# -- commands ------------------------------------------------------------------------------------


def _command(kind: str, **params: str | None) -> dict[str, Any]:
    return {"type": kind, "params": [{"key": k, "value": v} for k, v in params.items() if v is not None]}


def run_script(name: str, args: str | None = None) -> dict[str, Any]:
    """A ``RunScript`` command: run library script *name* with *args* (stopped after 10 minutes)."""
    return _command("RunScript", ScriptName=name, Args=args or None)


def get_file(path: str) -> dict[str, Any]:
    """A ``GetFile`` command: collect the file at *path* on the machine."""
    return _command("GetFile", Path=path)


def put_file(name: str) -> dict[str, Any]:
    """A ``PutFile`` command: copy library file *name* to the machine (no result)."""
    return _command("PutFile", FileName=name)


def _normalised(commands: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """*commands* as the request carries them; a clear error before sending for what cannot work."""
    if not commands:
        raise ConfigurationError("live response needs at least one command")
    kinds = LIVE_RESPONSE.command_order
    out, last = [], 0
    for i, cmd in enumerate(commands):
        kind = cmd.get("type")
        if kind not in kinds:
            raise ConfigurationError(f"command {i}: type must be one of {', '.join(kinds)}, not {kind!r}")
        if kinds.index(str(kind)) < last:
            raise ConfigurationError(
                f"command {i} ({kind}): commands must be in the order {', '.join(kinds)}"
            )
        last = kinds.index(str(kind))
        out.append({"type": kind, "params": [dict(p) for p in cmd.get("params") or []]})
    return out


def _signature(commands: Iterable[Any]) -> list[tuple[str, tuple[tuple[str, str], ...]]]:
    """Commands reduced to what identifies them (type and parameters), for comparing sessions."""
    sig = []
    for cmd in commands:
        raw = cmd if isinstance(cmd, Mapping) else cmd.model_dump(by_alias=True)
        params = tuple(sorted((str(p.get("key")), str(p.get("value"))) for p in raw.get("params") or []))
        sig.append((str(raw.get("type")), params))
    return sig


# -- results -------------------------------------------------------------------------------------


@dataclass
class CommandResult:
    """One command of a session: how it ended, and its result when it has one.

    ``transcript`` for a completed RunScript; ``path`` (and ``size``) for a completed GetFile whose
    file was saved; ``errors`` as the service reported them for a failed command.
    """

    index: int
    type: str
    status: str
    errors: list[Any] = field(default_factory=list)
    transcript: ScriptTranscript | None = None
    path: Path | None = None
    size: int | None = None

    @property
    def ok(self) -> bool:
        """True when the command completed (and a script exited 0)."""
        if self.status != "Completed":
            return False
        return self.transcript is None or not self.transcript.exit_code


@dataclass
class LiveResponseResult:
    """A finished live response session: its final machine action and each command's result."""

    action: MachineAction
    commands: list[CommandResult]

    @property
    def status(self) -> str:
        """The session's terminal status (``Succeeded``, ``Failed``, ``TimeOut``, ``Cancelled``)."""
        return self.action.status or ""

    @property
    def ok(self) -> bool:
        """True when the session succeeded and every command is ok (scripts exited 0)."""
        return self.status == "Succeeded" and all(c.ok for c in self.commands)

    @property
    def transcript(self) -> ScriptTranscript | None:
        """The first RunScript transcript (most sessions run one script)."""
        return next((c.transcript for c in self.commands if c.transcript is not None), None)

    @property
    def path(self) -> Path | None:
        """The first file saved by a GetFile."""
        return next((c.path for c in self.commands if c.path is not None), None)

    @property
    def errors(self) -> list[str]:
        """Every command error, as ``"#<index> <type>: <error>"`` lines."""
        return [f"#{c.index} {c.type}: {e}" for c in self.commands for e in c.errors]


class DownloadError(ApiError):
    """A result download link answered an error (expired twice, or the storage refused it)."""


# -- calls ---------------------------------------------------------------------------------------


def _start_call(machine_id: str, commands: list[dict[str, Any]], comment: str) -> Call[MachineAction]:
    return make_call(
        "actions.live_response",
        MachineAction.model_validate,
        body={"Commands": commands, "Comment": comment},
        id=machine_id,
    )


def _link_call(action_id: str, index: int) -> Call[str]:
    return make_call(
        "actions.live_response_result",
        lambda b: str((b or {}).get("value", "")).strip('"'),
        id=action_id,
        index=str(index),
    )


def _get_action(action_id: str) -> Call[MachineAction]:
    return make_call("actions.get", MachineAction.model_validate, id=action_id)


def library_list_call() -> Call[list[LibraryFile]]:
    """Every file in the live response library."""
    return make_call(
        "library.list", lambda b: [LibraryFile.model_validate(i) for i in (b or {}).get("value") or []]
    )


def library_upload_call(
    file: str | os.PathLike[str] | bytes,
    *,
    name: str | None = None,
    description: str | None = None,
    parameters_description: str | None = None,
    has_parameters: bool = False,
    override: bool = False,
) -> Call[LibraryFile]:
    """Upload a script or tool to the library (20 MB at most); *name* defaults to the file's name.

    ``override=True`` replaces a file of the same name (otherwise the service refuses it).
    """
    if isinstance(file, bytes):
        if not name:
            raise ConfigurationError("name= is required when uploading bytes")
        content = file
    else:
        source = Path(file)
        name = name or source.name
        try:
            _too_large(name, source.stat().st_size)  # before reading it
            content = source.read_bytes()
        except OSError as exc:
            raise ConfigurationError(f"cannot read {source}: {exc.strerror or exc}") from None
    _too_large(name, len(content))
    fields = {
        "HasParameters": "true" if has_parameters else "false",
        "OverrideIfExists": "true" if override else "false",
    }
    if description is not None:
        fields["Description"] = description
    if parameters_description is not None:
        fields["ParametersDescription"] = parameters_description
    return make_call(
        "library.upload", LibraryFile.model_validate, body=Multipart("file", name, content, fields)
    )


def _too_large(name: str, size: int) -> None:
    limit = LIVE_RESPONSE.library_file_bytes
    if size > limit:
        raise ConfigurationError(
            f"{name} is {size} bytes; the live response library takes files up to {limit // 2**20} MB"
        )


def library_delete_call(name: str) -> Call[None]:
    """Delete library file *name*."""
    return make_call("library.delete", lambda b: None, id=name)


# -- flows ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Waiting:
    """How a session is followed: poll every *interval* seconds, give up after *timeout*."""

    timeout: float = 1800.0
    interval: float = 10.0


def start_flow(
    opts: Options, machine_id: str, commands: Sequence[Mapping[str, Any]], comment: str
) -> Flow[MachineAction]:
    """Send the session; an open session of the machine is used only if it runs the same commands."""
    wanted = _normalised(commands)
    action: MachineAction = yield from call_flow(_start_call(machine_id, wanted, comment), opts)
    if action.reused and _signature(c.command for c in action.commands if c.command) != _signature(wanted):
        raise ActionAlreadyPendingError(
            f"machine {machine_id} already has a live response session ({action.id}, {action.status}) "
            "running other commands; wait for it or cancel it, then try again",
            status=400,
            code="ActiveRequestAlreadyExists",
        )
    return action


def wait_flow(
    opts: Options, clock: Callable[[], float], action: MachineAction, waiting: Waiting
) -> Flow[MachineAction]:
    """Poll *action* until it is terminal (:class:`ActionTimeoutError` after ``waiting.timeout``)."""
    deadline = clock() + waiting.timeout
    while not action.is_terminal:
        if clock() >= deadline:
            raise ActionTimeoutError(
                f"live response {action.id} on {action.machine_id} still {action.status} "
                f"after {waiting.timeout:g}s",
                action=action,
            )
        yield Sleep(waiting.interval)
        action = yield from call_flow(_get_action(action.id), opts)
    return action


def download_flow(opts: Options, action_id: str, index: int, to: str | None) -> Flow[bytes]:
    """Fetch command *index*'s result (bytes, or saved to *to*); a new link if one has expired."""
    attempt = 0
    for fresh in (False, True):
        url: str = yield from call_flow(_link_call(action_id, index), opts)
        while True:
            attempt += 1
            reply = yield Fetch(url, to)
            if isinstance(reply, Reply) and reply.status < 300:
                return reply.content
            status = reply.status if isinstance(reply, Reply) else None
            if status in (401, 403) and not fresh:
                break  # expired or refused link: ask for a new one, once
            wait = _fetch_retry(opts.retry, attempt, reply)
            if wait is None:
                if isinstance(reply, MdeError):
                    raise reply
                raise DownloadError(
                    f"result {index} of {action_id}: download answered HTTP {status}",
                    status=status or 0,
                    body=reply.content[:200].decode("utf-8", "replace"),
                )
            yield Sleep(wait)
    raise AssertionError("unreachable")  # pragma: no cover


def _fetch_retry(policy: RetryPolicy, attempt: int, reply: Reply | MdeError) -> float | None:
    if isinstance(reply, TransportError):
        return policy.delay(attempt, 0.0)
    if isinstance(reply, Reply):
        return policy.delay(attempt, 0.0, status=reply.status)
    return None


def _file_name(remote: str) -> str:
    """The last component of a machine path (Windows or POSIX); ``result`` if it has none."""
    name = PureWindowsPath(remote).name if "\\" in remote else remote.rsplit("/", 1)[-1]
    return name.strip() or "result"


def _destination(to: str | os.PathLike[str], remote: str, many: bool) -> Path:
    """Where a GetFile result goes: inside *to* if it is a directory (or several files are
    saved), else *to* itself."""
    target = Path(to)
    if many or target.is_dir():
        if not target.is_dir():
            raise ConfigurationError(f"{target} is not a directory")
        return target / _file_name(remote)
    if not target.parent.is_dir():
        raise ConfigurationError(f"{target.parent} is not a directory")
    return target


def results_flow(
    opts: Options, action: MachineAction, to: str | os.PathLike[str] | None, *, scripts: bool = True
) -> Flow[list[CommandResult]]:
    """Each command's :class:`CommandResult`: transcripts fetched, GetFile files saved under *to*."""
    files = [c for c in action.commands if c.command is not None and c.command.type == "GetFile"]
    out: list[CommandResult] = []
    for cmd in action.commands:
        kind = cmd.command.type if cmd.command is not None else ""
        result = CommandResult(cmd.index, kind, cmd.command_status or "", [str(e) for e in cmd.errors])
        if result.status == "Completed" and kind == "RunScript" and scripts:
            body = yield from download_flow(opts, action.id, cmd.index, None)
            result.transcript = ScriptTranscript.model_validate_json(body)
        elif (
            result.status == "Completed" and kind == "GetFile" and to is not None and cmd.command is not None
        ):
            remote = cmd.command.param("Path") or ""
            dest = _destination(to, remote, len(files) > 1)
            yield from download_flow(opts, action.id, cmd.index, str(dest))
            result.path, result.size = dest, dest.stat().st_size
        out.append(result)
    return out


def session_flow(
    opts: Options,
    clock: Callable[[], float],
    machine_id: str,
    commands: Sequence[Mapping[str, Any]],
    *,
    comment: str,
    to: str | os.PathLike[str] | None,
    waiting: Waiting,
    on_start: Callable[[str, MachineAction], None] | None = None,
) -> Flow[LiveResponseResult]:
    """Start a session, wait for it, fetch its results: a :class:`LiveResponseResult`.

    *on_start* is called once the service has the session (to record it before waiting).
    """
    action = yield from start_flow(opts, machine_id, commands, comment)
    if on_start is not None:
        on_start(machine_id, action)
    action = yield from wait_flow(opts, clock, action, waiting)
    results = yield from results_flow(opts, action, to)
    return LiveResponseResult(action, results)


#: Where each machine's GetFile results go: a directory (``<dir>/<machine>/``), or per machine.
Destination = str | os.PathLike[str] | Callable[[str], "str | os.PathLike[str] | None"] | None


def many_flow(
    opts: Options,
    clock: Callable[[], float],
    machines: Iterable[str],
    commands: Sequence[Mapping[str, Any]],
    *,
    comment: str,
    to: Destination,
    waiting: Waiting,
    limit: int,
    on_start: Callable[[str, MachineAction], None] | None = None,
    on_done: Callable[[Outcome[str, LiveResponseResult]], None] | None = None,
) -> Flow[list[Outcome[str, LiveResponseResult]]]:
    """:func:`session_flow` on each machine, at most *limit* sessions at once (≤ 25, the service's
    limit). GetFile results go to ``<to>/<machine>/`` (created), or where ``to(machine)`` says."""
    if not 1 <= limit <= MAX_SESSIONS:
        raise ConfigurationError(
            f"limit must be between 1 and {MAX_SESSIONS} (the service runs {MAX_SESSIONS} sessions at once)"
        )
    wanted = _normalised(commands)
    items = []
    for machine in dict.fromkeys(machines):  # once per machine: a second session would be refused
        if callable(to):
            target = to(machine)
        elif to is not None:
            target = Path(to) / _safe_dir(machine)
            target.mkdir(parents=True, exist_ok=True)
        else:
            target = None
        flow = session_flow(
            opts, clock, machine, wanted, comment=comment, to=target, waiting=waiting, on_start=on_start
        )
        items.append((machine, flow))
    outcomes: list[Outcome[str, LiveResponseResult]] = yield from fan_out(
        items, limit=limit, clock=clock, on_done=on_done
    )
    return outcomes


def _safe_dir(machine: str) -> str:
    """A directory name for *machine* (ids and host names; anything else replaced by ``_``)."""
    name = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in machine).strip(".")
    return name or "machine"


class ActionFailedError(MdeError):
    """A machine action ended without succeeding; ``action`` is its final state."""

    def __init__(self, message: str, *, action: MachineAction) -> None:
        super().__init__(message)
        self.action = action


def _package_link(action_id: str) -> Call[str]:
    # the documented example quotes the link inside the string (service-facts-2 §2.4): strip it
    return make_call(
        "actions.package_uri", lambda b: str((b or {}).get("value", "")).strip('"'), id=action_id
    )


def package_flow(
    opts: Options,
    clock: Callable[[], float],
    machine_id: str,
    *,
    comment: str,
    to: str | os.PathLike[str],
    waiting: Waiting,
) -> Flow[Path]:
    """Collect an investigation package, wait for it, save the zip to *to* (a file, or a
    directory: ``<machine>-investigation-package.zip`` in it); the saved path."""
    target = Path(to)
    dest = target / f"{_safe_dir(machine_id)}-investigation-package.zip" if target.is_dir() else target
    if not dest.parent.is_dir():
        raise ConfigurationError(f"{dest.parent} is not a directory")
    call = make_call(
        "actions.collect", MachineAction.model_validate, body={"Comment": comment}, id=machine_id
    )
    action: MachineAction = yield from call_flow(call, opts)
    action = yield from wait_flow(opts, clock, action, waiting)
    if action.status != "Succeeded":
        raise ActionFailedError(
            f"investigation package collection {action.id} on {machine_id} ended {action.status}",
            action=action,
        )
    url: str = yield from call_flow(_package_link(action.id), opts)
    reply = yield Fetch(url, str(dest))
    if isinstance(reply, MdeError):
        raise reply
    if reply.status >= 300:
        raise DownloadError(
            f"investigation package of {action.id}: download answered HTTP {reply.status}",
            status=reply.status,
        )
    return dest


# -- families ------------------------------------------------------------------------------------

DEFAULT_COMMENT = "mdekit live response"


def _run(
    self: Any,
    machine: str,
    commands: Sequence[Mapping[str, Any]],
    *,
    comment: str = DEFAULT_COMMENT,
    to: str | os.PathLike[str] | None = None,
    timeout: float = 1800.0,
    interval: float = 10.0,
) -> Flow[LiveResponseResult]:
    """Run *commands* (:func:`run_script`, :func:`get_file`, :func:`put_file`) on *machine*, wait,
    and fetch the results: a :class:`LiveResponseResult`. GetFile files are saved under *to* (a
    file path for one GetFile, a directory for several); without *to* they are not downloaded."""
    client = self._client
    return session_flow(
        client.options,
        client.clock,
        machine,
        commands,
        comment=comment,
        to=to,
        waiting=Waiting(timeout, interval),
    )


def _run_script(
    self: Any,
    machine: str,
    name: str,
    args: str | None = None,
    *,
    comment: str = DEFAULT_COMMENT,
    timeout: float = 1800.0,
    interval: float = 10.0,
) -> Flow[LiveResponseResult]:
    """Run library script *name* with *args* on *machine*; the result's ``transcript`` has its exit
    code, output and errors."""
    return _run(self, machine, [run_script(name, args)], comment=comment, timeout=timeout, interval=interval)


def _get_file(
    self: Any,
    machine: str,
    path: str,
    *,
    to: str | os.PathLike[str],
    comment: str = DEFAULT_COMMENT,
    timeout: float = 1800.0,
    interval: float = 10.0,
) -> Flow[LiveResponseResult]:
    """Collect the file at *path* on *machine* and stream it to *to* (a file, or a directory to
    save it in under its own name); the result's ``path`` is where it is."""
    return _run(self, machine, [get_file(path)], comment=comment, to=to, timeout=timeout, interval=interval)


def _put_file(
    self: Any,
    machine: str,
    name: str,
    *,
    comment: str = DEFAULT_COMMENT,
    timeout: float = 1800.0,
    interval: float = 10.0,
) -> Flow[LiveResponseResult]:
    """Copy library file *name* to *machine* (it lands in the live response working folder)."""
    return _run(self, machine, [put_file(name)], comment=comment, timeout=timeout, interval=interval)


def _run_many(
    self: Any,
    machines: Iterable[str],
    commands: Sequence[Mapping[str, Any]],
    *,
    limit: int = 10,
    comment: str = DEFAULT_COMMENT,
    to: Destination = None,
    timeout: float = 1800.0,
    interval: float = 10.0,
    on_start: Callable[[str, MachineAction], None] | None = None,
    on_done: Callable[[Outcome[str, LiveResponseResult]], None] | None = None,
) -> Flow[list[Outcome[str, LiveResponseResult]]]:
    """Run *commands* on every machine, at most *limit* sessions at once (the service runs 25 per
    tenant); an :class:`~mdekit.client.fanout.Outcome` per machine, in order, a failure on one
    machine never stopping the others. GetFile results go to ``<to>/<machine>/`` or where
    ``to(machine)`` says. *on_start* is called as each session is accepted, *on_done* as each
    machine finishes."""
    return many_flow(
        self._client.options,
        self._client.clock,
        machines,
        commands,
        comment=comment,
        to=to,
        waiting=Waiting(timeout, interval),
        limit=limit,
        on_start=on_start,
        on_done=on_done,
    )


def _results(
    self: Any, action: MachineAction, *, to: str | os.PathLike[str] | None = None
) -> Flow[list[CommandResult]]:
    """The results of a finished live response *action* (transcripts; GetFile files saved under *to*)."""
    return results_flow(self._client.options, action, to)


def _download(
    self: Any, action: MachineAction | str, index: int, *, to: str | os.PathLike[str] | None = None
) -> Flow[bytes]:
    """Command *index*'s result: its bytes, or (with *to*) streamed to that file (then ``b""``)."""
    action_id = action if isinstance(action, str) else action.id
    return download_flow(self._client.options, action_id, index, None if to is None else str(to))


def _collect_package(
    self: Any,
    machine: str,
    *,
    to: str | os.PathLike[str],
    comment: str = "mdekit investigation package",
    timeout: float = 3600.0,
    interval: float = 15.0,
) -> Flow[Path]:
    """Collect *machine*'s investigation package, wait for it and save the zip to *to*; its path."""
    return package_flow(
        self._client.options,
        self._client.clock,
        machine,
        comment=comment,
        to=to,
        waiting=Waiting(timeout, interval),
    )


def _result_link(action: MachineAction | str, index: int) -> Call[str]:
    """A 30-minute download link to command *index*'s result (asking again mints a new one)."""
    return _link_call(action if isinstance(action, str) else action.id, index)


def _start(
    self: Any, machine: str, commands: Sequence[Mapping[str, Any]], comment: str = DEFAULT_COMMENT
) -> Flow[MachineAction]:
    """Send a session without waiting for it: the ``LiveResponse`` machine action (the machine's
    open session if it runs the same commands; another one is an ActionAlreadyPendingError)."""
    return start_flow(self._client.options, machine, commands, comment)


class LiveResponse(Family[C]):
    """``client.live_response`` (methods awaited on :class:`~mdekit.AsyncDefender`)."""

    start = procedure(_start)
    run = procedure(_run)
    run_script = procedure(_run_script)
    get_file = procedure(_get_file)
    put_file = procedure(_put_file)
    run_many = procedure(_run_many)
    results = procedure(_results)
    download = procedure(_download)
    result_link = endpoint(_result_link)
    collect_package = procedure(_collect_package)


class Library(Family[C]):
    """``client.library``: the live response library (methods awaited on :class:`~mdekit.AsyncDefender`)."""

    list = endpoint(library_list_call)
    upload = endpoint(library_upload_call)
    delete = endpoint(library_delete_call)
