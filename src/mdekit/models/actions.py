"""Machine actions (service-facts §4.3)."""

from __future__ import annotations

from typing import Any

from pydantic import Field, PrivateAttr

from mdekit.models.base import MdeModel, Timestamp
from mdekit.models.live import LiveResponseCommand

__all__ = ["TERMINAL_STATUSES", "FileInfo", "MachineAction"]

#: Statuses after which an action never changes again.
TERMINAL_STATUSES = frozenset({"Succeeded", "Failed", "TimeOut", "Cancelled"})


class FileInfo(MdeModel):
    """``relatedFileInfo`` of a stop-and-quarantine action."""

    file_identifier: str | None = None
    file_identifier_type: str | None = None


class MachineAction(MdeModel):
    """An action on a machine (isolate, scan, ...). ``wait()`` polls it to a terminal state."""

    id: str
    type: str | None = None
    title: str | None = None
    requestor: str | None = None
    requestor_comment: str | None = None
    status: str | None = None
    machine_id: str | None = None
    computer_dns_name: str | None = None
    creation_date_time_utc: Timestamp = None
    last_update_date_time_utc: Timestamp = None
    cancellation_requestor: str | None = None
    cancellation_comment: str | None = None
    cancellation_date_time_utc: Timestamp = None
    error_h_result: int | None = Field(default=None, alias="errorHResult")
    scope: str | None = None
    external_id: str | None = None
    request_source: str | None = None
    related_file_info: FileInfo | None = None
    #: A live response action's commands (empty for other types).
    commands: list[LiveResponseCommand] = Field(default_factory=list)
    troubleshoot_info: Any = None

    #: The sync client that returned this action (lets ``wait()``/``refresh()`` call back).
    _client: Any = PrivateAttr(default=None)
    #: True when the client returned an action that was already pending instead of creating one.
    _reused: bool = PrivateAttr(default=False)

    @property
    def is_terminal(self) -> bool:
        """True once the action succeeded, failed, timed out or was cancelled."""
        return self.status in TERMINAL_STATUSES

    @property
    def reused(self) -> bool:
        """True if this is an already-pending action returned for a duplicate request."""
        return self._reused

    def refresh(self) -> MachineAction:
        """The action's current state (a new object)."""
        return self._bound().actions.get(self.id)

    def wait(self, timeout: float = 900.0, interval: float = 5.0) -> MachineAction:
        """Poll until the action reaches a terminal status; returns the final state.

        Raises :class:`mdekit.client.actions.ActionTimeoutError` after *timeout* seconds (on the
        client's clock, which tests can make virtual).
        """
        action: MachineAction = self._bound().actions.wait(self, timeout=timeout, interval=interval)
        return action

    def _bound(self) -> Any:
        if self._client is None:
            from mdekit.errors import ConfigurationError

            raise ConfigurationError(
                "this action is not bound to a sync client; use client.actions.wait(action)"
            )
        return self._client
