"""``mde live run-script|get-file|put-file``: live response on one machine or many.

The rails are those of every machine action (:mod:`mdekit.cli.acting`): targets from arguments and
``--from-file``, ``--dry-run`` (names resolved read-only, nothing sent), confirmation above one
target, ``--state-file`` (a machine whose session the service accepted is recorded at once and a
resumed run skips it), one audit line when a session is accepted and one when it ends. Then, unlike
other actions, every session is followed to its end and its results fetched: at most ``--limit``
sessions run at once (the service runs 25 per tenant), each machine's progress shows on stderr, and
one result row per machine follows (the transcript of a script; where a file was saved).

Exit code: that of the first failure (a machine not found, a session that failed or timed out, a
script that exited non-zero: 1), else 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any, ClassVar

import typer

from mdekit.cli.common import Acting, action_options, new_app, options

app = new_app("Run library scripts, collect files and push tools with live response.")

__all__ = ["app", "run_live", "show_dry_run"]

KEY_COLUMNS = ("target", "status", "actionId")
Limit = Annotated[
    int,
    typer.Option(
        "--limit", min=1, max=25, help="Sessions running at once (the service runs at most 25 per tenant)."
    ),
]


class LiveCommand(Acting):
    """``Acting`` whose own arguments come after ``MACHINES...`` (``run-script MACHINE... SCRIPT``);
    no ``--wait``: a live response command always follows its sessions to their results."""

    omit: ClassVar[frozenset[str]] = frozenset({"all_profiles", "wait"})

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        own = [p for p in self.params if p.param_type_name == "argument" and p.name != "machines"]
        self.params = [p for p in self.params if p not in own] + own


class FileCommand(LiveCommand):
    """A live command whose ``-o`` is the file it writes (the result rows: table on a terminal,
    JSON when piped)."""

    omit: ClassVar[frozenset[str]] = frozenset({"all_profiles", "wait", "output"})


@dataclass
class _Run:
    """One run of a live command over its targets: rows, exit code and the state it records."""

    verb: str
    columns: list[str]
    row_of: Callable[[Any], dict[str, Any]]
    detail: dict[str, Any]
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # machine id -> target as given
    code: int = 0


def run_live(
    ctx: typer.Context,
    run: _Run,
    commands: list[dict[str, Any]],
    *,
    limit: int,
    to: Callable[[str, str], Path | None] | None = None,
) -> None:
    """Run *commands* in a session on every target with the rails; print one row per target."""
    from mdekit.cli import bulk
    from mdekit.cli.monitor import Monitor

    rails, opts = action_options(ctx), options(ctx)
    targets = rails.targets()
    target = opts.single()
    if rails.dry_run:
        show_dry_run(opts, rails, run.verb, run.detail)
        return
    state = bulk.StateFile(rails.state_file)
    bulk.confirm(run.verb, len(targets), yes=rails.yes)
    client = target.client()
    comment = rails.comment or f"{run.verb} via mde CLI"
    audit = _auditor(target.label, run)
    with Monitor(run.verb, len(targets)) as monitor:
        ids = _resolve(client, run, targets, state, monitor)
        monitor.following([run.names[i] for i in ids])

        def started(machine_id: str, action: Any) -> None:
            name = run.names[machine_id]
            state.mark(name)  # accepted by the service: a resumed run must not send it again
            audit(name, machine_id, action.id, f"sent: {action.status}")
            monitor.sent(name, str(action.status), action.id, opened=True)

        def done(outcome: Any) -> None:
            name = run.names[outcome.key]
            row, code, note = _row(run, name, outcome)
            run.rows[name].update(row)
            run.code = run.code or code
            audit(name, outcome.key, row.get("actionId"), f"finished: {row['status']}")
            monitor.finished(name, str(row["status"]), note)

        destination = None if to is None else (lambda machine_id: to(machine_id, run.names[machine_id]))
        outcomes = client.live_response.run_many(
            ids, commands, limit=min(limit, max(1, len(ids))), comment=comment, to=destination,
            timeout=rails.timeout, interval=rails.interval, on_start=started, on_done=done,
        ) if ids else []  # fmt: skip
    _stop_on_access_errors(outcomes)
    rows = list(run.rows.values())
    columns = [c for c in run.columns if c != "error" or any(r.get("error") for r in rows)]
    opts.emit(rows, columns=columns, keep=KEY_COLUMNS)
    if run.code:
        raise typer.Exit(run.code)


def show_dry_run(opts: Any, rails: Any, verb: str, detail: dict[str, Any]) -> None:
    """Resolve every target (read-only GETs), show the plan, send nothing; exit 1 on an unknown one."""
    from mdekit.cli import bulk
    from mdekit.cli.machine_info import PLAN_COLUMNS, dry_run_plan
    from mdekit.cli.output import info

    targets = rails.targets()
    state = bulk.StateFile(rails.state_file, writable=False)
    plan, code = dry_run_plan(opts.single().client(), targets, {"action": verb, **detail}, state.is_done)
    opts.emit(plan, columns=PLAN_COLUMNS)
    would = sum(1 for r in plan if r["status"] == "WouldRun")
    info(f"dry run: nothing sent ({would} of {len(plan)} machine(s) would get {verb})")
    if code:
        raise typer.Exit(code)


def _resolve(client: Any, run: _Run, targets: list[str], state: Any, monitor: Any) -> list[str]:
    """Machine ids of the targets to run on; rows for the skipped and the unknown."""
    from mdekit.cli.inputs import row_error
    from mdekit.cli.machine_info import resolve
    from mdekit.errors import AuthenticationError, MdeError, PermissionMissingError

    ids: list[str] = []
    for name in targets:
        run.rows[name] = {"target": name, "status": None, "actionId": None, "error": None}
        if state.is_done(name):
            run.rows[name].update(status="Skipped", error="done in an earlier run (state file)")
            monitor.sent(name, "Skipped")
            continue
        try:
            machine = resolve(client, name)
        except (PermissionMissingError, AuthenticationError):
            raise  # the same for every machine: stop at once
        except MdeError as exc:
            run.rows[name].update(status="Error", error=row_error(exc, targets))
            run.code = run.code or exc.exit_code
            monitor.sent(name, "Error", run.rows[name]["error"])
            continue
        mid = str(machine["id"])
        if mid in run.names:
            run.rows[name].update(status="Skipped", error=f"same machine as {run.names[mid]}")
            monitor.sent(name, "Skipped")
            continue
        run.names[mid] = name
        run.rows[name]["computerDnsName"] = machine.get("computerDnsName")
        ids.append(mid)
    return ids


def _row(run: _Run, name: str, outcome: Any) -> tuple[dict[str, Any], int, str]:
    """(row fields, exit code, progress note) of one machine's finished session."""
    from mdekit.cli.inputs import row_error
    from mdekit.client.actions import ActionTimeoutError

    error = outcome.error
    if isinstance(error, ActionTimeoutError):
        action = error.action
        note = f"--timeout gave up, still {action.status}: follow it with `mde actions wait {action.id}`"
        return {"status": action.status, "actionId": action.id, "error": note}, 1, "gave up waiting"
    if error is not None:
        message = row_error(error)
        return {"status": "Error", "error": message}, error.exit_code, message
    result = outcome.result
    row = {"status": result.status, "actionId": result.action.id, **run.row_of(result)}
    problems = result.errors
    if result.status != "Succeeded" and not problems:
        problems = [f"session ended {result.status}"]
    row["error"] = "; ".join(problems) or None
    return row, 0 if result.ok else 1, row["error"] or ""


def _stop_on_access_errors(outcomes: list[Any]) -> None:
    """A missing permission or a refused token fails every machine alike: one error, not N rows."""
    from mdekit.errors import AuthenticationError, PermissionMissingError

    for outcome in outcomes:
        if isinstance(outcome.error, PermissionMissingError | AuthenticationError):
            raise outcome.error


def _auditor(tenant: str, run: _Run) -> Callable[[str, str, str | None, str], None]:
    from mdekit.cli import bulk

    def audit(name: str, machine_id: str, action_id: str | None, result: str) -> None:
        bulk.audit(
            {
                "tenant": tenant,
                "action": run.verb,
                "target": name,
                "machineId": machine_id,
                "actionId": action_id,
                "detail": run.detail,
                "result": result,
            }
        )

    return audit


def _transcript(result: Any) -> dict[str, Any]:
    t = result.transcript
    if t is None:
        return {"exitCode": None, "output": None, "scriptErrors": None}
    return {"exitCode": t.exit_code, "output": t.script_output, "scriptErrors": t.script_errors or None}


@app.command("run-script", cls=LiveCommand)
def run_script(
    ctx: typer.Context,
    script: str = typer.Argument(..., help="Library script name (mde library list)."),
    args: str = typer.Option(None, "--args", help="Arguments passed to the script, as one string."),
    limit: Limit = 10,
) -> None:
    """Run a library script on machines and show each exit code and output (Machine.LiveResponse)."""
    from mdekit.client.live import run_script as command

    columns = [
        "target",
        "status",
        "exitCode",
        "output",
        "scriptErrors",
        "actionId",
        "error",
        "computerDnsName",
    ]
    run = _Run(
        "run-script", columns, _transcript, {"script": script, "args": args} if args else {"script": script}
    )
    run_live(ctx, run, [command(script, args)], limit=limit)


@app.command("get-file", cls=FileCommand)
def get_file(
    ctx: typer.Context,
    path: str = typer.Argument(..., help="Path of the file on the machine (C:\\...\\file or /...)."),
    out: str = typer.Option(
        ...,
        "-o",
        "--out",
        help="Where to save it: a file (one machine) or a directory (<dir>/<machine>/<name>).",
    ),
    limit: Limit = 10,
) -> None:
    """Collect a file from machines and save it locally, streamed (Machine.LiveResponse)."""
    from mdekit.client.live import get_file as command
    from mdekit.errors import ConfigurationError

    rails = action_options(ctx)
    target = Path(out)
    many = len(rails.targets()) > 1
    if many and not rails.dry_run:
        target.mkdir(parents=True, exist_ok=True)
    elif not target.is_dir() and not target.parent.is_dir():
        raise ConfigurationError(f"-o {out}: {target.parent} is not a directory")  # before sending

    def where(machine_id: str, name: str) -> Path:
        if not many:
            return target
        folder = target / _folder(name)
        folder.mkdir(exist_ok=True)
        return folder

    def saved(result: Any) -> dict[str, Any]:
        return {"path": str(result.path) if result.path else None, "size": result.commands[0].size}

    columns = ["target", "status", "path", "size", "actionId", "error", "computerDnsName"]
    run = _Run("get-file", columns, saved, {"path": path})
    run_live(ctx, run, [command(path)], limit=limit, to=where)


@app.command("put-file", cls=LiveCommand)
def put_file(
    ctx: typer.Context,
    name: str = typer.Argument(..., help="Library file name (mde library list)."),
    limit: Limit = 10,
) -> None:
    """Copy a library file to machines (their live response working folder) (Machine.LiveResponse)."""
    from mdekit.client.live import put_file as command

    columns = ["target", "status", "actionId", "error", "computerDnsName"]
    run = _Run("put-file", columns, lambda result: {}, {"file": name})
    run_live(ctx, run, [command(name)], limit=limit)


def _folder(name: str) -> str:
    """A directory name for target *name* (a host name or id; anything else becomes ``_``)."""
    cleaned = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name).strip(".")
    return cleaned or "machine"
