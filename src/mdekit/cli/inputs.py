"""Shared checks for what a user types or points ``mde`` at: files, GUIDs, positive seconds, echoes.

Every command goes through these, so bad input gets the same one-line error (exit 2) before
anything is sent:

- :func:`read_text`: a text file (or ``-`` = stdin); missing, a directory, binary or not UTF-8
  becomes a ``ConfigurationError`` instead of ``OSError``/``UnicodeDecodeError``.
- :func:`guid`: ids that the API defines as GUIDs (machine actions) are checked locally.
- :func:`positive_seconds`: a typer callback for ``--timeout``/``--interval`` (finite, > 0).
- :func:`shorten_message`: error lines never echo a huge user value back (applied once, where
  ``mde`` prints ``error: ...``).
"""

from __future__ import annotations

import math
import re
import sys
from collections.abc import Iterable
from pathlib import Path

from mdekit.errors import ConfigurationError

__all__ = [
    "ECHO_LIMIT",
    "guid",
    "positive_seconds",
    "read_text",
    "row_error",
    "shorten",
    "shorten_message",
]

ECHO_LIMIT = 80  # characters of a user value an error line may quote
_LINE_LIMIT = 1000  # a whole error line, whatever it holds
_LONG_RUN = re.compile(r"\S{257,}")  # a value without spaces this long is data, never a hint or URL
_GUID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")


def shorten(value: str, limit: int = ECHO_LIMIT) -> str:
    """*value* cut to *limit* characters plus ``…`` when longer."""
    return value if len(value) <= limit else value[:limit] + "…"


def shorten_message(message: str, user_values: Iterable[str] = ()) -> str:
    """*message* with every long user value (e.g. the command's arguments) cut to :data:`ECHO_LIMIT`.

    Servers and our own checks quote what they were given (``Domain name <100 KB> is invalid``);
    values that came from a file are not in *user_values*, so any run of 257+ non-space
    characters is cut too, and the whole line is capped as a last resort.
    """
    for value in sorted({v for v in user_values if len(v) > ECHO_LIMIT}, key=len, reverse=True):
        message = message.replace(value, shorten(value))
    message = _LONG_RUN.sub(lambda m: shorten(m.group(0)), message)
    return shorten(message, _LINE_LIMIT)


def row_error(exc: Exception, user_values: Iterable[str] = ()) -> str:
    """The error of one row of a bulk result: the service's own words (``Machine x was not found
    (ResourceNotFound)``) without the request line the one-line ``error:`` carries; shortened."""
    from mdekit.errors import ApiError, MdeError

    text = exc.message if isinstance(exc, MdeError) else str(exc)
    body = exc.body if isinstance(exc, ApiError) else None
    envelope = body.get("error") if isinstance(body, dict) else None
    if isinstance(envelope, dict) and envelope.get("message"):
        code = envelope.get("code")
        text = f"{envelope['message']} ({code})" if code else str(envelope["message"])
    return shorten_message(text, user_values)


def read_text(file: str, what: str = "file") -> str:
    """The text of *file* (``-`` = stdin), UTF-8 with or without BOM; one clean error otherwise."""
    if file == "-":
        try:
            return sys.stdin.buffer.read().decode("utf-8-sig") if sys.stdin else ""
        except UnicodeDecodeError:
            raise ConfigurationError(f"{what} on stdin is not UTF-8 text") from None
    path = Path(file)
    shown = shorten(file)
    try:
        data = path.read_bytes()
    except IsADirectoryError:
        raise ConfigurationError(f"cannot read {what} {shown}: it is a directory") from None
    except FileNotFoundError:
        raise ConfigurationError(f"cannot read {what} {shown}: file not found") from None
    except OSError as exc:
        raise ConfigurationError(f"cannot read {what} {shown}: {exc.strerror or exc}") from None
    if b"\x00" in data:
        raise ConfigurationError(f"{what} {shown} is binary, not text (CSV, JSON or one value per line)")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigurationError(
            f"{what} {shown} is not UTF-8 text (bad byte at offset {exc.start}); save it as UTF-8"
        ) from None


def guid(value: str, what: str) -> str:
    """*value* (trimmed) if it is a GUID (``8-4-4-4-12`` hex digits); else a usage error."""
    text = value.strip()
    if not _GUID.fullmatch(text):
        example = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
        raise ConfigurationError(f"bad {what} {shorten(value)!r}: expected a GUID like {example}")
    return text


def positive_seconds(value: float | None) -> float | None:
    """Typer callback: a finite number of seconds above zero (``None`` passes)."""
    if value is not None and (not math.isfinite(value) or value <= 0):
        import typer

        raise typer.BadParameter(f"{value:g} is not a positive number of seconds")
    return value
