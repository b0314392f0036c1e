"""Software version ordering and affected-range checks for the TVM emulator.

Versions are compared token by token: numbers numerically, letters alphabetically, and a letter
token sorts below a number at the same position (``2.0-beta9`` < ``2.0.1``, ``8.9p1`` < ``8.10``,
``9.7p1`` < ``9.8p1``). That is enough for the products shipped in :mod:`.cves` (Windows builds,
browsers, OpenSSH ``p`` releases, log4j ``-beta``); it is not a general semantic-version parser.
"""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = ["in_range", "version_key"]

_TOKEN = re.compile(r"\d+|[A-Za-z]+")

VersionKey = tuple[tuple[int, int | str], ...]


@lru_cache(maxsize=4096)
def version_key(version: str) -> VersionKey:
    """A sortable key for *version* (see the module docstring)."""
    return tuple((1, int(t)) if t.isdigit() else (0, t.lower()) for t in _TOKEN.findall(version))


def in_range(version: str, introduced: str | None, fixed: str | None) -> bool:
    """Whether ``introduced <= version < fixed`` (a missing bound is open)."""
    key = version_key(version)
    if introduced is not None and key < version_key(introduced):
        return False
    return fixed is None or key < version_key(fixed)
