"""Secure configurations (SCA) the emulator assesses on every machine.

scid-10000, scid-20000, scid-39 and scid-6093 with their names, categories and impact are the
examples of Microsoft's "Export secure configuration assessment" page. The Microsoft Defender
Antivirus ids (scid-2003, 2010-2013, 2016, 5090) are the ones public hunting queries use for
those settings; their display names here are UNVERIFIED.

Whether a machine complies is a deterministic function of the machine (its antivirus state
for the antivirus settings, a stable hash of its id otherwise), so every endpoint agrees.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["CONFIGS", "CONFIG_BY_ID", "Config"]


@dataclass(frozen=True)
class Config:
    """One secure configuration."""

    id: str  # "scid-2012"
    name: str
    category: str  # Application, OS, Network, Accounts, "Security controls"
    subcategory: str
    impact: int  # 1-10: weight in the configuration score
    platforms: tuple[str, ...]  # osPlatform values it applies to
    user_impact: bool = False
    #: Which antivirus fact decides compliance (see tvm.assess); "" = a stable per-machine draw.
    av_check: str = ""
    #: Share of machines compliant when decided by the stable draw.
    compliant_rate: float = 0.7

    @property
    def recommendation_id(self) -> str:
        """``sca-_-scid-...``."""
        return f"sca-_-{self.id}"


_WINDOWS = ("Windows10", "Windows11", "WindowsServer2019", "WindowsServer2022")
_AV = "Antivirus"

CONFIGS: tuple[Config, ...] = (
    Config(
        "scid-10000",
        "Disable insecure administration protocol - Telnet",
        "Network",
        "",
        5,
        _WINDOWS,
        compliant_rate=0.92,
    ),
    Config(
        "scid-20000",
        "Onboard devices to Microsoft Defender for Endpoint",
        "Security controls",
        "Onboard Devices",
        9,
        _WINDOWS,
        av_check="onboarded",
    ),
    Config(
        "scid-39",
        "Enable 'Domain member: Digitally sign secure channel data (when possible)'",
        "OS",
        "",
        5,
        _WINDOWS,
        compliant_rate=0.8,
    ),
    Config(
        "scid-2010",
        "Turn on Microsoft Defender Antivirus",
        "Security controls",
        _AV,
        9,
        _WINDOWS,
        av_check="active",
    ),
    Config(
        "scid-2011",
        "Update Microsoft Defender Antivirus definitions",
        "Security controls",
        _AV,
        8,
        _WINDOWS,
        av_check="signatures",
    ),
    Config(
        "scid-2012", "Turn on real-time protection", "Security controls", _AV, 9, _WINDOWS, av_check="active"
    ),
    Config(
        "scid-2013",
        "Turn on PUA protection in block mode",
        "Security controls",
        _AV,
        6,
        _WINDOWS,
        compliant_rate=0.6,
    ),
    Config(
        "scid-2003", "Turn on Tamper Protection", "Security controls", _AV, 8, _WINDOWS, compliant_rate=0.75
    ),
    Config(
        "scid-2016",
        "Turn on cloud-delivered protection",
        "Security controls",
        _AV,
        7,
        _WINDOWS,
        compliant_rate=0.85,
    ),
    Config(
        "scid-5090",
        "Enable Microsoft Defender Antivirus real-time protection for macOS",
        "Security controls",
        _AV,
        9,
        ("macOS",),
        av_check="active",
    ),
    Config(
        "scid-6093",
        "Enable Microsoft Defender Antivirus real-time behavior monitoring for Linux",
        "Security controls",
        _AV,
        5,
        ("Linux",),
        compliant_rate=0.65,
    ),
)

CONFIG_BY_ID: dict[str, Config] = {c.id.lower(): c for c in CONFIGS}
