"""The emulator's assessment model: which CVEs a product version has, how much exposure they add,
whether a machine complies with a secure configuration.

Microsoft does not publish how exposure and configuration scores are computed; these formulas
are the emulator's (deterministic, documented here, consistent across every endpoint):

* a CVE's weight is its CVSS score times 1.0 when exploited in the wild, 0.8 with a public
  proof of concept, 0.5 otherwise;
* a machine's exposure is the sum of its CVEs' weights (its ``exposureLevel``: None at 0, Low
  below 10, Medium below 30, High from 30);
* the organization's (or a machine group's) exposure score is the mean machine exposure, at most
  100; a product's ``impactScore``/``exposureImpact`` is how much that mean falls if it is updated;
* the configuration score is 1,000 x (impact of compliant applicable configurations / impact of
  all applicable ones), summed over machines.
"""

from __future__ import annotations

import zlib
from functools import lru_cache

from mdekit.emulator.defender.tvm.configs import CONFIGS
from mdekit.emulator.defender.tvm.cves import CVES, Affected, Cve

__all__ = [
    "config_checks",
    "cve_weight",
    "cves_for",
    "exposure_level",
    "stable_draw",
    "version_weight",
]

_EXPLOIT_FACTOR = {"active": 1.0, "poc": 0.8, "none": 0.5}


@lru_cache(maxsize=8192)
def cves_for(vendor: str, name: str, version: str) -> tuple[tuple[Cve, Affected], ...]:
    """Every shipped CVE affecting *vendor*/*name* at *version*, with the matching range."""
    out = []
    for cve in CVES:
        hit = cve.affects(vendor, name, version)
        if hit is not None:
            out.append((cve, hit))
    return tuple(out)


@lru_cache(maxsize=8192)
def version_weight(vendor: str, name: str, version: str) -> float:
    """The exposure one installed product version adds (the sum of its CVEs' weights)."""
    return sum(cve_weight(cve) for cve, _ in cves_for(vendor, name, version))


def cve_weight(cve: Cve) -> float:
    """How much one CVE adds to a machine's exposure."""
    return cve.cvss * _EXPLOIT_FACTOR.get(cve.exploit, 0.5)


def exposure_level(exposure: float) -> str:
    """A machine's ``exposureLevel`` from its exposure."""
    if exposure <= 0:
        return "None"
    if exposure < 10:
        return "Low"
    if exposure < 30:
        return "Medium"
    return "High"


def stable_draw(*parts: str) -> float:
    """A number in [0, 1) fixed by *parts* (the same on every call and every run)."""
    return zlib.crc32(":".join(parts).encode()) / 2**32


_NOT_APPLICABLE = (False, False)


def config_checks(
    machine_id: str, platform: str, av_mode: str | None, signature_current: str | None, onboarded: bool
) -> dict[str, tuple[bool, bool]]:
    """config id -> (applicable, compliant) for one machine (not applicable -> not compliant).

    Antivirus settings follow the machine's AV health (``avMode`` "0" = active, signatures
    up to date "True"), onboarding its onboarding status, the rest a stable per-machine draw.
    (Called for every machine of every configuration answer: kept to plain comparisons.)
    """
    out: dict[str, tuple[bool, bool]] = {}
    for c in CONFIGS:
        if platform not in c.platforms:
            out[c.id] = _NOT_APPLICABLE
            continue
        check = c.av_check
        if check == "active":
            ok = av_mode == "0"
        elif check == "signatures":
            ok = signature_current == "True"
        elif check == "onboarded":
            ok = onboarded
        else:
            ok = zlib.crc32(f"{machine_id}:{c.id}".encode()) / 2**32 < c.compliant_rate
        out[c.id] = (True, ok)
    return out
