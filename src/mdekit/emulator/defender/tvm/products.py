"""Software the seeded machines run: real products, vendors and released versions, by platform.

Versions are real releases (public facts) chosen so that a fleet mixes vulnerable and fixed
builds of each product in :mod:`.cves`; weights say how common each version is. The operating
system itself is a product too (``windows_10`` at a cumulative-update build, ``ubuntu_linux``,
``macos``), as TVM inventories it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

from mdekit.emulator.defender.tvm.cves import WINDOWS_UPDATES

__all__ = ["OS_PRODUCT", "PLATFORM_SOFTWARE", "PRODUCTS", "Product", "product"]


@dataclass(frozen=True)
class Product:
    """A software product as TVM names it, with the versions seen installed."""

    vendor: str
    name: str
    component: str  # display name: "relatedComponent", "Update <component>"
    versions: tuple[tuple[str, int], ...]  # (version, weight)
    disk_path: str = ""
    registry_path: str = ""
    #: End of support (ISO date) of the whole product, e.g. Windows 10 on 2025-10-14.
    end_of_support: str | None = None

    @property
    def id(self) -> str:
        """TVM's software id: ``vendor-_-name``."""
        return f"{self.vendor}-_-{self.name}"

    @cached_property
    def latest(self) -> str:
        """The newest version in the pool (what a recommendation asks to update to)."""
        from mdekit.emulator.defender.tvm.versions import version_key

        return max((v for v, _ in self.versions), key=version_key)


def _windows_os(name: str, component: str, weights: tuple[int, ...], eos: str | None = None) -> Product:
    builds = [u.build for u in WINDOWS_UPDATES if u.product == name]
    return Product(
        "microsoft",
        name,
        component,
        tuple(zip(builds, weights, strict=True)),
        end_of_support=eos,
    )


# Older patch levels are rarer: one weight per monthly build, July 2024 -> June 2025.
_PATCH_MIX = (2, 2, 3, 3, 4, 5, 6, 8, 10, 13, 18, 26)

PRODUCTS: tuple[Product, ...] = (
    # Windows 10 reached end of support on 2025-10-14 (Microsoft lifecycle).
    _windows_os("windows_10", "Windows 10", _PATCH_MIX, "2025-10-14"),
    _windows_os("windows_11", "Windows 11", _PATCH_MIX),
    _windows_os("windows_server_2019", "Windows Server 2019", _PATCH_MIX),
    _windows_os("windows_server_2022", "Windows Server 2022", _PATCH_MIX),
    Product("canonical", "ubuntu_linux", "Ubuntu Linux", (("22.04", 1),)),
    Product("apple", "macos", "macOS", (("14.4", 1),)),
    Product(
        "microsoft",
        "edge_chromium-based",
        "Microsoft Edge",
        (("131.0.2903.70", 5), ("128.0.2739.67", 3), ("127.0.2651.105", 2)),
        r"C:\Program Files (x86)\Microsoft\Edge\Application\msedge.exe",
        r"HKEY_LOCAL_MACHINE\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\Microsoft Edge",
    ),
    Product(
        "google",
        "chrome",
        "Chrome",
        (
            ("131.0.6778.86", 30),
            ("128.0.6613.120", 25),
            ("127.0.6533.120", 20),
            ("116.0.5845.188", 15),
            ("115.0.5790.171", 10),
        ),
        r"C:\Program Files\Google\Chrome\Application\chrome.exe",
        r"HKEY_LOCAL_MACHINE\SOFTWARE\WOW6432Node\Microsoft\Windows\CurrentVersion\Uninstall\Google Chrome",
    ),
    Product(
        "mozilla",
        "firefox",
        "Firefox",
        (("133.0", 30), ("131.0.3", 25), ("131.0", 20), ("128.0.3", 15), ("115.0.2", 10)),
        r"C:\Program Files\Mozilla Firefox\firefox.exe",
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\Mozilla Firefox",
    ),
    Product(
        "7-zip",
        "7-zip",
        "7-Zip",
        (("24.09", 35), ("24.08", 25), ("23.01", 20), ("22.01", 10), ("19.00", 10)),
        r"C:\Program Files\7-Zip\7zFM.exe",
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\7-Zip",
    ),
    Product(
        "rarlab",
        "winrar",
        "WinRAR",
        (("7.01", 40), ("6.24", 30), ("6.22", 20), ("6.11", 10)),
        r"C:\Program Files\WinRAR\WinRAR.exe",
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\WinRAR archiver",
    ),
    Product(
        "notepad-plus-plus",
        "notepad++",
        "Notepad++",
        (("8.7.4", 5), ("8.6.9", 3), ("8.5.8", 2)),
        r"C:\Program Files\Notepad++\notepad++.exe",
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\Notepad++",
    ),
    Product(
        "zoom",
        "zoom",
        "Zoom",
        (("6.2.5", 6), ("5.17.11", 4)),
    ),
    Product(
        "git-scm",
        "git",
        "Git",
        (("2.47.1", 30), ("2.45.1", 25), ("2.44.0", 20), ("2.39.2", 15), ("2.34.1", 10)),
        r"C:\Program Files\Git\cmd\git.exe",
        r"HKEY_LOCAL_MACHINE\SOFTWARE\Microsoft\Windows\CurrentVersion\Uninstall\Git_is1",
    ),
    Product("apache", "log4j", "Apache Log4j", (("2.17.1", 50), ("2.14.1", 30), ("2.23.1", 20))),
    Product("openbsd", "openssh", "OpenSSH", (("8.9p1", 60), ("9.6p1", 25), ("9.8p1", 15))),
    Product("gnu", "glibc", "GNU C Library", (("2.35", 7), ("2.39", 3))),
    Product("haxx", "curl", "curl", (("7.81.0", 6), ("8.5.0", 3), ("8.7.1", 1))),
    Product("openssl", "openssl", "OpenSSL", (("3.0.2", 6), ("3.0.13", 4))),
    Product("sudo_project", "sudo", "sudo", (("1.9.9", 85), ("1.8.31", 15))),
    Product("tukaani", "xz", "XZ Utils", (("5.2.5", 90), ("5.4.5", 8), ("5.6.1", 2))),
)

_BY_KEY = {(p.vendor, p.name): p for p in PRODUCTS}


def product(vendor: str, name: str) -> Product | None:
    """The catalogue's product *vendor*/*name*, if it is one."""
    return _BY_KEY.get((vendor, name))


#: The operating system product of each seeded ``osPlatform``.
OS_PRODUCT: dict[str, tuple[str, str]] = {
    "Windows10": ("microsoft", "windows_10"),
    "Windows11": ("microsoft", "windows_11"),
    "WindowsServer2019": ("microsoft", "windows_server_2019"),
    "WindowsServer2022": ("microsoft", "windows_server_2022"),
    "Linux": ("canonical", "ubuntu_linux"),
    "macOS": ("apple", "macos"),
}

_DESKTOP = (
    ("microsoft", "edge_chromium-based", 1.0),
    ("google", "chrome", 0.75),
    ("mozilla", "firefox", 0.3),
    ("7-zip", "7-zip", 0.4),
    ("rarlab", "winrar", 0.15),
    ("notepad-plus-plus", "notepad++", 0.3),
    ("zoom", "zoom", 0.35),
    ("git-scm", "git", 0.2),
)
_SERVER = (
    ("microsoft", "edge_chromium-based", 0.8),
    ("7-zip", "7-zip", 0.3),
    ("notepad-plus-plus", "notepad++", 0.2),
    ("git-scm", "git", 0.1),
    ("apache", "log4j", 0.15),
)
_LINUX = (
    ("openbsd", "openssh", 1.0),
    ("gnu", "glibc", 1.0),
    ("haxx", "curl", 1.0),
    ("openssl", "openssl", 1.0),
    ("sudo_project", "sudo", 1.0),
    ("tukaani", "xz", 1.0),
    ("git-scm", "git", 0.5),
    ("apache", "log4j", 0.2),
    ("mozilla", "firefox", 0.1),
)
_MAC = (
    ("google", "chrome", 0.8),
    ("mozilla", "firefox", 0.3),
    ("zoom", "zoom", 0.5),
    ("git-scm", "git", 0.4),
    ("haxx", "curl", 1.0),
)

#: Per ``osPlatform``: (vendor, name, probability a machine has it) besides the OS itself.
PLATFORM_SOFTWARE: dict[str, tuple[tuple[str, str, float], ...]] = {
    "Windows10": _DESKTOP,
    "Windows11": _DESKTOP,
    "WindowsServer2019": _SERVER,
    "WindowsServer2022": _SERVER,
    "Linux": _LINUX,
    "macOS": _MAC,
}
