"""Run one machine action over many machines: resolve, dry-run, confirm, act, wait, resume, audit.

Every machine-action command (``mde machines isolate|unisolate|restrict|...``, class ``Acting``)
calls :func:`act`, so all of them share the same rails and result rows:

1. targets from the arguments and ``--from-file``; a dry run resolves each name to its machine
   id (read-only look-ups), shows the plan and sends nothing;
2. confirmation above one target (``--yes`` skips it; no terminal means refuse);
3. each action is sent; the state file records the target at once (a resumed run skips it and
   never sends it twice) and one audit line records it;
4. ``--wait``: every sent action is followed at the same time (one poll per ``--interval``) until
   Succeeded/Failed/Cancelled/TimeOut, or ``--timeout`` after it was sent; its outcome is
   audited too;
5. one result row per target; ``target``, ``status`` and ``actionId`` stay visible on a narrow
   terminal. Progress and status changes show live on stderr (:mod:`mdekit.cli.monitor`).

The exit code is that of the first failure (an API error for one target, a timed-out wait), else 0.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer

from mdekit.cli import bulk
from mdekit.cli.common import ActionOptions, Options, action_options, options
from mdekit.cli.inputs import row_error
from mdekit.cli.monitor import Monitor
from mdekit.cli.output import as_dict, info
from mdekit.errors import AuthenticationError, MdeError, PermissionMissingError

__all__ = ["ActionRequest", "Followed", "act", "follow", "run_action"]

RESULT_COLUMNS = ["target", "status", "actionId", "error", "computerDnsName", "type"]
KEY_COLUMNS = ("target", "status", "actionId")  # shown whole at any width


@dataclass
class ActionRequest:
    """What to do: a verb (for messages and the audit log) and the client call per machine id."""

    verb: str
    call: Callable[[Any, str], Any]  # (client, machine_id) -> MachineAction
    rails: ActionOptions
    detail: dict[str, Any] | None = None


def act(ctx: typer.Context, verb: str, call: Callable[[Any, str, str], Any], **detail: Any) -> None:
    """Run *call(client, machine_id, comment)* on every target of an ``Acting`` command.

    *detail* (e.g. ``isolationType="Full"``) goes into the dry-run plan and the audit lines.
    Exits with the run's exit code when it is not 0.
    """
    rails = action_options(ctx)
    text = rails.comment or f"{verb} via mde CLI"
    req = ActionRequest(verb, lambda client, mid: call(client, mid, text), rails,
                        {k: v for k, v in detail.items() if v} or None)  # fmt: skip
    code = run_action(options(ctx), req)
    if code:
        raise typer.Exit(code)


def run_action(opts: Options, req: ActionRequest) -> int:
    """Act on every target; print one result row each; return the exit code (0 when all went well)."""
    targets = req.rails.targets()
    target = opts.single()
    if req.rails.dry_run:
        return _dry_run(opts, target.client(), req, targets)
    state = bulk.StateFile(req.rails.state_file)  # unreadable or unwritable: refused before asking
    bulk.confirm(req.verb, len(targets), yes=req.rails.yes)
    client = target.client()
    rows: list[dict[str, Any]] = []
    sent: list[Followed] = []
    code = 0
    with Monitor(req.verb, len(targets)) as monitor:
        for name in targets:
            row, action, failed = _send(client, target.label, req, name, state, targets)
            rows.append(row)
            code = code or failed
            detail = row.get("actionId") or row.get("error") or ""
            monitor.sent(name, str(row["status"]), detail, opened=action is not None)
            if action is not None:
                sent.append(Followed(name, action, client.clock() + req.rails.timeout))
        if req.rails.wait and sent:
            followed = follow(client, sent, interval=req.rails.interval, monitor=monitor)
            code = code or followed
            _record_outcomes(target.label, req, sent, rows)
    columns = [c for c in RESULT_COLUMNS if c != "error" or any(r.get("error") for r in rows)]
    opts.emit(rows, columns=columns, keep=KEY_COLUMNS)
    return code


def _dry_run(opts: Options, client: Any, req: ActionRequest, targets: list[str]) -> int:
    """Resolve every target to its machine (read-only GETs) and show the plan; no action is sent."""
    from mdekit.cli.machine_info import PLAN_COLUMNS, dry_run_plan

    state = bulk.StateFile(req.rails.state_file, writable=False)
    rows, code = dry_run_plan(client, targets, {"action": req.verb, **(req.detail or {})}, state.is_done)
    opts.emit(rows, columns=PLAN_COLUMNS)
    would = sum(1 for r in rows if r["status"] == "WouldRun")
    info(f"dry run: nothing sent ({would} of {len(rows)} machine(s) would get {req.verb})")
    return code


def _send(
    client: Any, tenant: str, req: ActionRequest, name: str, state: bulk.StateFile, targets: list[str]
) -> tuple[dict[str, Any], dict[str, Any] | None, int]:
    """One target: resolve and send; the result row, the created action (or ``None``), exit code."""
    if state.is_done(name):
        return {"target": name, "status": "Skipped", "error": "done in an earlier run (state file)"}, None, 0
    try:
        machine = as_dict(client.machines.get(name))
        action = as_dict(req.call(client, machine["id"]))
    except (PermissionMissingError, AuthenticationError):
        raise  # the same for every machine: stop at once
    except MdeError as exc:
        message = row_error(exc, targets)
        _audit(tenant, req, name, None, f"error: {message}")
        return {"target": name, "status": "Error", "error": message}, None, exc.exit_code
    state.mark(name)  # sent: a resumed run must not send it again
    _audit(tenant, req, name, action, str(action.get("status")))
    row = {
        "target": name,
        "status": action.get("status"),
        "actionId": action.get("id"),
        "error": None,
        "computerDnsName": machine.get("computerDnsName"),
        "type": action.get("type"),
        "machineId": machine["id"],
    }
    return row, action, 0


@dataclass
class Followed:
    """An action being followed: who it is for, its latest record, when to give up, and why."""

    name: str
    action: dict[str, Any]
    deadline: float
    note: str | None = None
    code: int = 0


def follow(client: Any, items: list[Followed], *, interval: float, monitor: Monitor) -> int:
    """Poll every action in *items* (one GET each per *interval*) until each is terminal.

    An action still open at its deadline is left with ``note`` set (exit code 1); one that can no
    longer be read keeps the service's error in ``note`` (its exit code). Returns the first
    failure's exit code, else 0. Status changes and finished actions go to *monitor*.
    """
    from mdekit.models import TERMINAL_STATUSES

    monitor.following([item.name for item in items])
    open_items = []
    for item in items:
        if item.action.get("status") in TERMINAL_STATUSES:
            monitor.finished(item.name, str(item.action.get("status")))
        else:
            open_items.append(item)
    while open_items:
        client.sleep(interval)
        still = []
        for item in open_items:
            before = item.action.get("status")
            try:
                item.action = as_dict(client.actions.get(item.action["id"]))
            except (PermissionMissingError, AuthenticationError):
                raise
            except MdeError as exc:
                item.note, item.code = row_error(exc), exc.exit_code
                monitor.finished(item.name, str(before), item.note)
                continue
            status = item.action.get("status")
            if status in TERMINAL_STATUSES:
                monitor.finished(item.name, str(status))
            elif client.clock() >= item.deadline:
                item.note = (
                    f"--wait gave up, still {status}: follow it with `mde actions wait {item.action['id']}`"
                )
                item.code = 1
                monitor.finished(item.name, str(status), "gave up waiting")
            else:
                if status != before:
                    monitor.changed(item.name, str(status), str(before))
                still.append(item)
        open_items = still
    return next((i.code for i in items if i.code), 0)


def _record_outcomes(
    tenant: str, req: ActionRequest, items: list[Followed], rows: list[dict[str, Any]]
) -> None:
    """After ``--wait``: each followed action's final status in its row and one more audit line."""
    by_name = {row["target"]: row for row in rows}
    for item in items:
        row = by_name[item.name]
        row["status"] = item.action.get("status")
        row["error"] = item.note
        _audit(tenant, req, item.name, item.action, f"finished: {item.action.get('status')}")


def _audit(tenant: str, req: ActionRequest, name: str, action: dict[str, Any] | None, result: str) -> None:
    bulk.audit(
        {
            "tenant": tenant,
            "action": req.verb,
            "target": name,
            "machineId": (action or {}).get("machineId"),
            "actionId": (action or {}).get("id"),
            "detail": req.detail or {},
            "result": result,
        }
    )
