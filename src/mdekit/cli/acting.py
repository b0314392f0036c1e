"""Run one machine action over many machines: resolve, dry-run, confirm, act, wait, resume, audit.

A dry run resolves each name to its machine id (read-only look-ups) and shows the plan; it
never sends an action.

Every machine-action command (``mde machines isolate|unisolate|restrict|...``) goes through
:func:`run_action`, so all of them share the same safety rails and result rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mdekit.cli import bulk
from mdekit.cli.common import Options
from mdekit.cli.inputs import row_error
from mdekit.cli.output import as_dict, emit, info
from mdekit.errors import AuthenticationError, MdeError, PermissionMissingError

__all__ = ["ActionRequest", "run_action"]

RESULT_COLUMNS = ["target", "computerDnsName", "type", "status", "actionId", "error"]


@dataclass
class ActionRequest:
    """What to do: a verb (for messages and the audit log) and the client call per machine id."""

    verb: str
    call: Callable[[Any, str], Any]  # (client, machine_id) -> MachineAction
    targets: list[str]
    dry_run: bool = False
    yes: bool = False
    wait: bool = False
    timeout: float = 900.0
    interval: float = 5.0
    state_file: str | None = None
    detail: dict[str, Any] | None = None


def run_action(opts: Options, req: ActionRequest) -> int:
    """Act on every target; print one result row each; return the exit code (0 when all went well)."""
    target = opts.single()
    if req.dry_run:
        return _dry_run(opts, target.client(), req)
    bulk.confirm(req.verb, len(req.targets), yes=req.yes)
    client = target.client()
    state = bulk.StateFile(req.state_file)
    rows: list[dict[str, Any]] = []
    first_error: MdeError | None = None
    for name in req.targets:
        try:
            rows.append(_one(client, target.label, req, name, state))
        except (PermissionMissingError, AuthenticationError):
            raise  # the same for every machine: stop at once
        except MdeError as exc:
            first_error = first_error or exc
            message = row_error(exc, req.targets)
            rows.append({"target": name, "status": "Error", "error": message})
            _audit(target.label, req, name, None, f"error: {message}")
    emit(rows, opts.fmt, columns=RESULT_COLUMNS)
    return first_error.exit_code if first_error else 0


def _dry_run(opts: Options, client: Any, req: ActionRequest) -> int:
    """Resolve every target to its machine (read-only GETs) and show the plan; no action is sent."""
    from mdekit.cli.machine_info import PLAN_COLUMNS, dry_run_plan

    state = bulk.StateFile(req.state_file)
    rows, code = dry_run_plan(client, req.targets, {"action": req.verb, **(req.detail or {})}, state.is_done)
    emit(rows, opts.fmt, columns=PLAN_COLUMNS)
    would = sum(1 for r in rows if r["status"] == "WouldRun")
    info(f"dry run: nothing sent ({would} of {len(rows)} machine(s) would get {req.verb})")
    return code


def _one(client: Any, tenant: str, req: ActionRequest, name: str, state: bulk.StateFile) -> dict[str, Any]:
    if state.is_done(name):
        return {"target": name, "status": "Skipped", "error": "done in an earlier run (state file)"}
    machine = as_dict(client.machines.get(name))
    action = req.call(client, machine["id"])
    if req.wait:
        action = client.actions.wait(action, timeout=req.timeout, interval=req.interval)
    data = as_dict(action)
    state.mark(name)
    _audit(tenant, req, name, data, str(data.get("status")))
    return {
        "target": name,
        "machineId": machine["id"],
        "computerDnsName": machine.get("computerDnsName"),
        "type": data.get("type"),
        "status": data.get("status"),
        "actionId": data.get("id"),
        "error": None,
    }


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
