"""Errors of the KQL engine; the hunting routes turn them into each API's 400 error shape."""

from __future__ import annotations

__all__ = [
    "KqlError",
    "KqlLimitError",
    "KqlQuotaError",
    "KqlSemanticError",
    "KqlSyntaxError",
    "KqlUnsupportedError",
]


class KqlError(Exception):
    """Any problem with a hunting query; ``str(err)`` is the message shown to the caller."""

    code = "BadRequest"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class KqlSyntaxError(KqlError):
    """The query does not parse; carries the 1-based ``line`` and ``column`` of the offending text."""

    def __init__(self, line: int, column: int, near: str, detail: str = "") -> None:
        msg = f"Query could not be parsed at '{near}' on line [{line},{column}]"
        super().__init__(msg + (f": {detail}" if detail else ""))
        self.line, self.column, self.near = line, column, near


class KqlUnsupportedError(KqlError):
    """A real KQL operator or function that this emulator's subset does not implement."""

    def __init__(self, kind: str, name: str) -> None:
        super().__init__(
            f"Unsupported {kind} '{name}': the mdekit emulator implements a subset of KQL "
            "(see the mdekit documentation for the supported operators and functions)"
        )
        self.kind, self.name = kind, name


class KqlSemanticError(KqlError):
    """The query parses but names an unknown table, column or function, or mixes types wrongly."""


class KqlLimitError(KqlError):
    """A documented service limit was exceeded (result size, execution time)."""


class KqlQuotaError(KqlError):
    """The tenant used up its query CPU time for now: a 429 with ``Retry-After`` (``retry_after`` s)."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after
