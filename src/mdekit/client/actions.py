"""Machine actions: every action type, list/get/cancel, package URI, and waiting for completion.

A request for an action that is already pending on the machine returns that pending action
(``action.reused`` is true) instead of failing, unless the client was built with
``reuse_pending=False``; an action POST is never replayed blindly after an ambiguous failure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mdekit.client.base import C, Family, ListCall, endpoint, listing, make_list, procedure
from mdekit.client.core import Call, make_call
from mdekit.client.flow import Flow, Sleep, call_flow
from mdekit.client.odata import Names, TimeLike, and_, eq, ge
from mdekit.errors import MdeError
from mdekit.models import MachineAction

__all__ = ["ActionTimeoutError", "Actions"]


class ActionTimeoutError(MdeError):
    """A machine action did not reach a terminal status within the timeout; ``action`` is its last state."""

    def __init__(self, message: str, *, action: MachineAction) -> None:
        super().__init__(message)
        self.action = action


def _action(name: str, machine_id: str, body: Mapping[str, Any]) -> Call[MachineAction]:
    return make_call(name, MachineAction.model_validate, body=dict(body), id=machine_id)


def _isolate(machine_id: str, comment: str, *, isolation_type: str = "Full") -> Call[MachineAction]:
    """Isolate a machine from the network (``Full``, ``Selective`` or ``UnManagedDevice``)."""
    return _action("actions.isolate", machine_id, {"Comment": comment, "IsolationType": isolation_type})


def _unisolate(machine_id: str, comment: str) -> Call[MachineAction]:
    """Release a machine from isolation."""
    return _action("actions.unisolate", machine_id, {"Comment": comment})


def _restrict(machine_id: str, comment: str) -> Call[MachineAction]:
    """Restrict code execution to Microsoft-signed binaries."""
    return _action("actions.restrict", machine_id, {"Comment": comment})


def _unrestrict(machine_id: str, comment: str) -> Call[MachineAction]:
    """Lift a code-execution restriction."""
    return _action("actions.unrestrict", machine_id, {"Comment": comment})


def _scan(machine_id: str, comment: str, *, scan_type: str = "Quick") -> Call[MachineAction]:
    """Run a Microsoft Defender Antivirus scan (``Quick`` or ``Full``)."""
    return _action("actions.scan", machine_id, {"Comment": comment, "ScanType": scan_type})


def _collect(machine_id: str, comment: str) -> Call[MachineAction]:
    """Collect an investigation package."""
    return _action("actions.collect", machine_id, {"Comment": comment})


def _quarantine(machine_id: str, sha1: str, comment: str) -> Call[MachineAction]:
    """Stop a file's processes and quarantine it."""
    return _action("actions.quarantine", machine_id, {"Comment": comment, "Sha1": sha1})


def _offboard(machine_id: str, comment: str) -> Call[MachineAction]:
    """Offboard a machine from Defender for Endpoint."""
    return _action("actions.offboard", machine_id, {"Comment": comment})


def _live_response(
    machine_id: str, commands: Sequence[Mapping[str, Any]], comment: str
) -> Call[MachineAction]:
    """Run live-response commands (``[{"type": "RunScript", "params": [{"key", "value"}]}]``)."""
    return _action("actions.live_response", machine_id, {"Commands": list(commands), "Comment": comment})


def _list(
    *,
    machine_id: str | None = None,
    type: str | Sequence[str] | None = None,
    status: str | Sequence[str] | None = None,
    requestor: str | None = None,
    since: TimeLike | None = None,
    filter: str | None = None,
    select: Names | None = None,
    order_by: Names | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> ListCall[MachineAction]:
    """List machine actions, filtered by machine, type, status, requestor or creation time."""
    flt = and_(
        [
            eq("machineId", machine_id),
            eq("type", type),
            eq("status", status),
            eq("requestor", requestor),
            ge("creationDateTimeUtc", since),
            f"({filter})" if filter else None,
        ]
    )
    return make_list(
        "actions.list",
        MachineAction,
        {"$filter": flt},
        page_size=page_size,
        limit=limit,
        select=select,
        order_by=order_by,
    )


def _get(action_id: str) -> Call[MachineAction]:
    """One machine action by id."""
    return make_call("actions.get", MachineAction.model_validate, id=action_id)


def _cancel(action_id: str, comment: str) -> Call[MachineAction]:
    """Cancel an action that has not finished."""
    return make_call("actions.cancel", MachineAction.model_validate, body={"Comment": comment}, id=action_id)


def _package_uri(action_id: str) -> Call[str]:
    """A short-lived download link for a collected investigation package (2 calls/min)."""
    return make_call(
        "actions.package_uri", lambda b: _unquoted(str((b or {}).get("value", ""))), id=action_id
    )


def _unquoted(link: str) -> str:
    """The link without the literal double quotes the docs' example wraps it in (``"\"https://...\""``);
    a third-party fixture has it bare, so both forms are read (service-facts-2 §2.4)."""
    return link[1:-1] if len(link) >= 2 and link[0] == link[-1] == '"' else link


class Actions(Family[C]):
    """``client.actions``."""

    isolate = endpoint(_isolate)
    unisolate = endpoint(_unisolate)
    restrict = endpoint(_restrict)
    unrestrict = endpoint(_unrestrict)
    scan = endpoint(_scan)
    collect = endpoint(_collect)
    quarantine = endpoint(_quarantine)
    offboard = endpoint(_offboard)
    live_response = endpoint(_live_response)
    list = listing(_list)
    get = endpoint(_get)
    cancel = endpoint(_cancel)
    package_uri = endpoint(_package_uri)

    def _wait(
        self, action: MachineAction | str, *, timeout: float = 900.0, interval: float = 5.0
    ) -> Flow[MachineAction]:
        """Poll *action* every *interval* seconds until it is terminal.

        Raises :class:`ActionTimeoutError` after *timeout* seconds on the client's clock.
        """
        client, opts = self._client, self._client.options
        if isinstance(action, MachineAction):
            current = action
        else:
            current = yield from call_flow(_get(action), opts)
        deadline = client.clock() + timeout
        while not current.is_terminal:
            if client.clock() >= deadline:
                raise ActionTimeoutError(
                    f"action {current.id} ({current.type}) still {current.status} after {timeout:g}s",
                    action=current,
                )
            yield Sleep(interval)
            current = yield from call_flow(_get(current.id), opts)
        return current

    wait = procedure(_wait)
