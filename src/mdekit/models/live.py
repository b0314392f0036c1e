"""Live response records: a session's commands, a RunScript transcript, library files
(service-facts-2 §2.1-2.3)."""

from __future__ import annotations

from typing import Any

from pydantic import ConfigDict, Field

from mdekit.models.base import MdeModel, Timestamp

__all__ = [
    "LibraryFile",
    "LiveResponseCommand",
    "LiveResponseParam",
    "LiveResponseRequest",
    "ScriptTranscript",
]


class LiveResponseParam(MdeModel):
    """One ``{"key", "value"}`` parameter of a command (``ScriptName``, ``Args``, ``Path``, ``FileName``)."""

    key: str
    value: str | None = None


class LiveResponseRequest(MdeModel):
    """A command as requested: ``{"type": "RunScript"|"GetFile"|"PutFile", "params": [...]}``."""

    type: str
    params: list[LiveResponseParam] = Field(default_factory=list)

    def param(self, key: str) -> str | None:
        """The value of parameter *key*, or ``None``."""
        return next((p.value for p in self.params if p.key == key), None)


class LiveResponseCommand(MdeModel):
    """One command of a ``LiveResponse`` machine action and how far it got.

    ``command_status``: ``Created`` (not run, or running), ``Completed`` or ``Failed``.
    """

    index: int
    start_time: Timestamp = None
    end_time: Timestamp = None
    command_status: str | None = None
    errors: list[Any] = Field(default_factory=list)
    command: LiveResponseRequest | None = None


class ScriptTranscript(MdeModel):
    """What a RunScript command's result link serves (wire names are snake_case)."""

    model_config = ConfigDict(alias_generator=None)

    script_name: str | None = None
    exit_code: int | None = None
    script_output: str = ""
    script_errors: str = ""


class LibraryFile(MdeModel):
    """A file in the live response library (``/api/libraryfiles``)."""

    file_name: str
    sha256: str | None = None
    description: str | None = None
    creation_time: Timestamp = None
    last_updated_time: Timestamp = None
    created_by: str | None = None
    has_parameters: bool | None = None
    parameters_description: str | None = None
