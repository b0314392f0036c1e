"""Which machines an action supports, as each action's documentation page states it.

* Isolate, full: Windows 10 version 1703 or later, Windows 11, Linux ([DD:isolate-machine]).
* Isolate, selective: Windows 10 version 1709 or later, Windows 11 ([DD:isolate-machine]).
* Restrict (and unrestrict) app execution: Windows 10 version 1709 or later, Windows 11
  ([DD:restrict-code-execution]).
* Stop and quarantine a file: "Windows 10, version 1703 or later; Windows 11"
  ([DD:stop-and-quarantine-file]); servers are allowed (the lenient choice, UNVERIFIED).
* Offboard: Windows 11, Windows 10 version 1703 or later, Windows Server 2019 and later, Windows
  Server 2012 R2 and 2016 (with the unified agent, which every emulated server has); not macOS or
  Linux ([DD:offboard-machine-api]).

A platform the page excludes is 400 ``OsPlatformNotSupported`` ("OS Platform {p} isn't supported
for this action.", common-errors); a Windows 10 older than the page's version is 400
``ClientVersionNotSupported`` ("{action} is supported on client version {v} and above.") - which of
the two the service answers for an old Windows 10 is UNVERIFIED. Platforms a page does not mention
(Windows Server and macOS for full isolation) are allowed: the lenient choice, UNVERIFIED.
"""

from __future__ import annotations

from typing import Any

from mdekit.emulator.defender.wire import ApiFailure

__all__ = ["check_platform"]

#: Windows 10 feature versions and their first builds (version text -> build).
_WIN10_BUILDS = {"1507": 10240, "1511": 10586, "1607": 14393, "1703": 15063, "1709": 16299}
_SERVERS_OFFBOARD = ("WindowsServer2012R2", "WindowsServer2016", "WindowsServer2019", "WindowsServer2022")


def _rule(action_type: str, scope: str | None) -> tuple[tuple[str, ...], str | None] | None:
    """(platforms allowed, oldest Windows 10 version) for an action; ``None`` = no documented rule."""
    if action_type == "Isolate" and scope == "Selective":
        return ("Windows10", "Windows11"), "1709"
    if action_type == "Isolate" and scope == "Full":
        return ("Windows10", "Windows11", "Linux", *_LENIENT_FULL), "1703"
    if action_type in ("RestrictCodeExecution", "UnrestrictCodeExecution"):
        return ("Windows10", "Windows11"), "1709"
    if action_type == "StopAndQuarantineFile":
        return ("Windows10", "Windows11", *_SERVERS_OFFBOARD, "WindowsServer2025"), "1703"
    if action_type == "Offboard":
        return ("Windows10", "Windows11", *_SERVERS_OFFBOARD, "WindowsServer2025"), "1703"
    return None


#: Full isolation of servers and Macs: the page is silent; the portal isolates them (UNVERIFIED).
_LENIENT_FULL = (*_SERVERS_OFFBOARD, "WindowsServer2025", "macOS")


def _win10_build(machine: dict[str, Any]) -> int | None:
    build = machine.get("osBuild")
    if isinstance(build, int) and not isinstance(build, bool) and build > 0:
        return build
    return _WIN10_BUILDS.get(str(machine.get("version") or ""))


def check_platform(action_type: str, scope: str | None, machine: dict[str, Any]) -> None:
    """400 when *machine*'s platform (or Windows 10 version) does not support the action."""
    rule = _rule(action_type, scope)
    if rule is None:
        return
    platforms, oldest = rule
    platform = str(machine.get("osPlatform") or "")
    if platform not in platforms:
        raise ApiFailure(
            400, "OsPlatformNotSupported", f"OS Platform {platform} isn't supported for this action."
        )
    build = _win10_build(machine) if platform == "Windows10" else None
    if oldest and build is not None and build < _WIN10_BUILDS[oldest]:
        raise ApiFailure(
            400,
            "ClientVersionNotSupported",
            f"{action_type} is supported on client version {oldest} and above.",
        )
