"""A faithful local Microsoft Entra ID token service + Defender for Endpoint API.

Start it in-process on a real HTTPS socket::

    from mdekit.emulator import EmulatorServer
    with EmulatorServer() as emu:
        print(emu.url, emu.ca_cert)

or from the shell with ``mde emulator serve``.
"""

from __future__ import annotations

import importlib.util
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mdekit.emulator.app import create_app
    from mdekit.emulator.clock import VirtualClock
    from mdekit.emulator.server import EmulatorServer
    from mdekit.emulator.state import EmulatorState

__all__ = ["EmulatorServer", "EmulatorState", "VirtualClock", "create_app"]

#: What the ``emulator`` extra installs that the emulator cannot run without (uvloop and httptools
#: are in the extra too, but uvicorn falls back to asyncio and h11 without them).
EXTRA_MODULES = ("fastapi", "uvicorn", "lark", "orjson")
INSTALL_HINT = "pip install 'mdekit[emulator]'"


def _missing_module() -> str | None:
    for name in EXTRA_MODULES:
        try:
            if importlib.util.find_spec(name) is None:
                return name
        except (ImportError, ValueError):  # an import hook refusing it, or a half-imported module
            return name
    return None


def _require_extra() -> None:
    # Runs when anything under mdekit.emulator is imported: `mde emulator`, `mde demo` and
    # mdekit.testing then fail with one line saying what to install, not an ImportError
    # from deep inside FastAPI. find_spec only looks: nothing heavy is imported here.
    missing = _missing_module()
    if missing is not None:
        from mdekit.errors import ConfigurationError

        raise ConfigurationError(
            f"the emulator needs the 'emulator' extra ({missing} is not installed): {INSTALL_HINT}"
        )


_require_extra()

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
