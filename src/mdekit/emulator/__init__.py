"""A faithful local Microsoft Entra ID token service + Defender for Endpoint API.

Start it in-process on a real HTTPS socket::

    from mdekit.emulator import EmulatorServer
    with EmulatorServer() as emu:
        print(emu.url, emu.ca_cert)

or from the shell with ``mde emulator serve``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mdekit.emulator.app import create_app
    from mdekit.emulator.clock import VirtualClock
    from mdekit.emulator.server import EmulatorServer
    from mdekit.emulator.state import EmulatorState

__all__ = ["EmulatorServer", "EmulatorState", "VirtualClock", "create_app"]

_LAZY = {
    "EmulatorServer": "mdekit.emulator.server",
    "EmulatorState": "mdekit.emulator.state",
    "VirtualClock": "mdekit.emulator.clock",
    "create_app": "mdekit.emulator.app",
}


def __getattr__(name: str) -> Any:
    # Lazy: importing mdekit.emulator must not pull in FastAPI/uvicorn until they are used.
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(name)
