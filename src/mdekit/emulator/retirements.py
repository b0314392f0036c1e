"""Which retired APIs the emulator answers as retired (see :mod:`mdekit.emulator.retired`)."""

from __future__ import annotations

import threading
from typing import Any

from mdekit.catalog import OPERATIONS

__all__ = ["HUNTING_PATHS", "Retirements"]

#: The legacy advanced-hunting endpoints MC1220762 retires (the catalogue's paths, lower case as compared).
HUNTING_PATHS = tuple(OPERATIONS[name].path.lower() for name in ("hunting.run", "hunting.run_xdr"))


class Retirements:
    """Which retired APIs answer as retired (thread-safe; forgotten on reset)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._hunting = False

    @property
    def hunting(self) -> bool:
        """Whether the legacy advanced-hunting endpoints answer as retired."""
        with self._lock:
            return self._hunting

    def set(self, *, hunting: bool) -> None:
        """Switch the legacy advanced-hunting endpoints' retirement on or off."""
        with self._lock:
            self._hunting = hunting

    def reset(self) -> None:
        """Nothing retired (the default)."""
        self.set(hunting=False)

    def settings(self) -> dict[str, Any]:
        """The control plane's view: ``{"advancedHunting": bool, "paths": [...]}``."""
        return {"advancedHunting": self.hunting, "paths": list(HUNTING_PATHS)}
