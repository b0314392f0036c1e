"""The emulator's one virtual clock.

Token expiry, secret end dates, rate-limit windows, machine-action progress and ``ago()`` in
hunting all read :meth:`VirtualClock.now`. It follows real time plus an offset that tests move
with :meth:`advance` or :meth:`set`; :meth:`freeze` stops it for fully deterministic tests.
"""

from __future__ import annotations

import math
import re
import threading
import time
from datetime import UTC, datetime

__all__ = [
    "MAX_TIME",
    "MIN_TIME",
    "VirtualClock",
    "check_time",
    "dotnet_stamp",
    "dotnet_time",
    "dotnet_times",
    "format_odata_time",
    "parse_time",
    "stored_time",
]

#: The range the virtual clock may be set to (epoch seconds: 1980-01-01 and 9000-01-01 UTC).
#: Wider than any test needs, and far enough from ``datetime``'s own limits (years 1 and 9999)
#: that "now" plus a secret's lifetime or minus a seed's look-back is always a valid time.
MIN_TIME = 315_532_800.0
MAX_TIME = 221_845_392_000.0


def check_time(target: float) -> float:
    """*target* (epoch seconds) if the clock may show it; ``ValueError`` naming the range otherwise."""
    if not math.isfinite(target) or not MIN_TIME <= target <= MAX_TIME:
        raise ValueError("the virtual clock must stay between 1980-01-01 and 9000-01-01 (UTC)")
    return target


class VirtualClock:
    """Real time shifted by an adjustable offset; thread-safe."""

    def __init__(self, offset: float = 0.0, frozen_at: float | None = None) -> None:
        self._lock = threading.Lock()
        self._offset = offset
        self._frozen_at = frozen_at

    def time(self) -> float:
        """Seconds since the epoch on the virtual clock."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at
            return time.time() + self._offset

    def now(self) -> datetime:
        """The virtual time as an aware UTC ``datetime``."""
        return datetime.fromtimestamp(self.time(), UTC)

    def advance(self, seconds: float) -> datetime:
        """Move the clock forward (or back, if negative) by *seconds*; returns the new time.

        ``ValueError`` (and no change) if the clock would leave ``MIN_TIME``..``MAX_TIME``.
        """
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = check_time(self._frozen_at + seconds)
            else:
                check_time(time.time() + self._offset + seconds)
                self._offset += seconds
        return self.now()

    def set(self, when: datetime | float) -> datetime:
        """Jump to *when* (an aware datetime or epoch seconds); the clock keeps running from there.

        ``ValueError`` (and no change) outside ``MIN_TIME``..``MAX_TIME``.
        """
        target = check_time(when.timestamp() if isinstance(when, datetime) else float(when))
        with self._lock:
            if self._frozen_at is not None:
                self._frozen_at = target
            else:
                self._offset = target - time.time()
        return self.now()

    def freeze(self) -> None:
        """Stop the clock at its current value (``advance``/``set`` still move it)."""
        now = self.time()
        with self._lock:
            self._frozen_at = now

    def unfreeze(self) -> None:
        """Let the clock run again from its current value."""
        with self._lock:
            if self._frozen_at is not None:
                self._offset = self._frozen_at - time.time()
                self._frozen_at = None

    @property
    def offset(self) -> float:
        """Seconds between the virtual clock and real time (persisted across restarts)."""
        with self._lock:
            if self._frozen_at is not None:
                return self._frozen_at - time.time()
            return self._offset


def format_odata_time(dt: datetime) -> str:
    """ISO 8601 UTC with exactly 7 fractional digits and ``Z``: the emulator's stored form.

    Fixed width, so text order is time order in SQL columns and ``$filter`` comparisons; answers
    write it as the service does (:func:`dotnet_time`, applied by the wire renderers).
    """
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond:06d}0Z"


#: A quoted UTC time in JSON text whose fraction ends in zeros (only those need rewriting).
_TRAILING_ZEROS = re.compile(r'"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d*[1-9])?)\.?0+Z"')


def dotnet_time(value: datetime | str) -> str:
    """A UTC time as the service's .NET serializer writes it: up to 7 fractional digits, trailing
    zeros (and a bare dot) removed - ``2020-12-12T00:00:00Z``, ``2021-01-26T20:33:59.2Z``,
    ``2021-01-26T20:33:57.7220239Z`` (service-facts §4.1; real captures throughout)."""
    text = format_odata_time(value) if isinstance(value, datetime) else value
    return _TRAILING_ZEROS.sub(r'"\1Z"', f'"{text}"')[1:-1]


def dotnet_stamp(text: str) -> str:
    """:func:`dotnet_time` of a stored 7-digit stamp, without the regex (the seed's hot loop)."""
    if text[-2:-1] != "0":  # nine stamps in ten: nothing to trim
        return text
    if len(text) != 28 or text[19] != ".":
        return dotnet_time(text)
    fraction = text[20:27].rstrip("0")
    return f"{text[:19]}.{fraction}Z" if fraction else f"{text[:19]}Z"


#: A time as :func:`dotnet_time` writes it (0 to 7 fractional digits).
_DOTNET = re.compile(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,7}))?Z")


def stored_time(text: str) -> str:
    """The stored 7-digit form of a time in the service's .NET form (the inverse of
    :func:`dotnet_time`); a stored stamp, or anything else, is returned as it is."""
    if len(text) == 28 and text[19] == ".":
        return text
    found = _DOTNET.fullmatch(text)
    if found is None:
        return text
    return f"{found.group(1)}.{(found.group(2) or '').ljust(7, '0')}Z"


def dotnet_times(json_text: str) -> str:
    """*json_text* with every quoted UTC time written by :func:`dotnet_time` (the one formatter
    the MDE, XDR and Graph renderers apply to whole answers)."""
    # Every rewrite ends in '0Z"' and its time holds no quote, so the match starts at the last '"'
    # before it: ``str.find`` jumps between those few spots instead of the regex trying every '"'
    # of the answer (issue 19: 0.95 ms of a 100-alert page before, the same output).
    hit = json_text.find('0Z"')
    if hit < 0:
        return json_text
    parts: list[str] = []
    done = 0
    while hit >= 0:
        end = hit + 3
        start = json_text.rfind('"', done, hit)
        found = _TRAILING_ZEROS.fullmatch(json_text, start, end) if start >= 0 else None
        if found is not None:
            parts.append(json_text[done:start])
            parts.append(f'"{found.group(1)}Z"')
            done = end
        hit = json_text.find('0Z"', end if found is not None else hit + 1)
    parts.append(json_text[done:])
    return "".join(parts)


def parse_time(text: str) -> datetime:
    """Parse an ISO 8601 time (``Z`` or offset, up to 7 fractional digits, date only allowed).

    Raises ``ValueError`` on anything else.
    """
    s = text.strip()
    if s.endswith(("Z", "z")):
        s = s[:-1] + "+00:00"
    # Python accepts at most 6 fractional digits; the service writes 7.
    m = re.match(r"^(.*?\.)(\d+)(.*)$", s)
    if m:
        s = f"{m.group(1)}{m.group(2)[:6].ljust(6, '0')}{m.group(3)}"
    dt = datetime.fromisoformat(s)
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
