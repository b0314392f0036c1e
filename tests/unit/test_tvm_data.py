"""The shipped TVM facts hold together: CVSS vectors and scores, KBs and builds, versions and ranges."""

from __future__ import annotations

import math

import pytest

from mdekit.emulator.defender.tvm.assess import cves_for, exposure_level
from mdekit.emulator.defender.tvm.configs import CONFIGS
from mdekit.emulator.defender.tvm.cves import CVES, WINDOWS_UPDATES, kb_for, severity_for
from mdekit.emulator.defender.tvm.products import OS_PRODUCT, PLATFORM_SOFTWARE, PRODUCTS, product
from mdekit.emulator.defender.tvm.versions import in_range, version_key

_W = {"N": 0.85, "A": 0.62, "L": 0.55, "P": 0.2}
_CIA = {"H": 0.56, "L": 0.22, "N": 0.0}
# The GitHub CNA record states 9.1 for a vector whose base score is 9.0; kept as published.
_SCORE_AS_PUBLISHED = {"CVE-2024-32002"}


def _roundup(x: float) -> float:
    i = round(x * 100_000)
    return i / 100_000.0 if i % 10_000 == 0 else (math.floor(i / 10_000) + 1) / 10.0


def base_score(vector: str) -> float:
    """CVSS v3.x base score (FIRST specification, section 7.1)."""
    m = dict(part.split(":") for part in vector.split("/")[1:])
    changed = m["S"] == "C"
    pr = {"N": 0.85, "L": 0.68 if changed else 0.62, "H": 0.5 if changed else 0.27}[m["PR"]]
    iss = 1 - (1 - _CIA[m["C"]]) * (1 - _CIA[m["I"]]) * (1 - _CIA[m["A"]])
    impact = 7.52 * (iss - 0.029) - 3.25 * (iss - 0.02) ** 15 if changed else 6.42 * iss
    exploitability = (
        8.22 * _W[m["AV"]] * {"L": 0.77, "H": 0.44}[m["AC"]] * pr * {"N": 0.85, "R": 0.62}[m["UI"]]
    )
    if impact <= 0:
        return 0.0
    return _roundup(min((1.08 if changed else 1.0) * (impact + exploitability), 10))


@pytest.mark.parametrize("cve", CVES, ids=lambda c: c.id)
def test_cvss_score_matches_its_vector(cve: object) -> None:
    from mdekit.emulator.defender.tvm.cves import Cve

    assert isinstance(cve, Cve)
    assert cve.vector.startswith(("CVSS:3.0/", "CVSS:3.1/"))
    if cve.id in _SCORE_AS_PUBLISHED:
        assert abs(base_score(cve.vector) - cve.cvss) <= 0.1
    else:
        assert base_score(cve.vector) == cve.cvss
    assert cve.severity == severity_for(cve.cvss)
    assert cve.exploit in ("active", "poc", "none")
    assert cve.published <= cve.updated and cve.published.endswith("Z")


def test_severity_thresholds() -> None:
    assert [severity_for(s) for s in (10.0, 9.0, 8.9, 7.0, 6.9, 4.0, 3.9)] == [
        "Critical",
        "Critical",
        "High",
        "High",
        "Medium",
        "Medium",
        "Low",
    ]


def test_windows_fixes_name_the_first_update_that_ships_the_fixed_build() -> None:
    for cve in CVES:
        for hit in cve.affected:
            if hit.vendor != "microsoft":
                continue
            assert hit.kb and hit.fixed, cve.id
            update = hit.update
            assert update is not None and update.product == hit.product
            assert version_key(update.build) >= version_key(hit.fixed)
            earlier = [
                u
                for u in WINDOWS_UPDATES
                if u.product == hit.product and version_key(u.build) < version_key(update.build)
            ]
            assert all(version_key(u.build) < version_key(hit.fixed) for u in earlier)
    assert kb_for("windows_10", "10.0.19045.4780").kb == "5041580"  # August 2024 (CVE-2024-38063)
    assert kb_for("windows_server_2019", "10.0.17763.6293").name == "September 2024 Security Updates"
    with pytest.raises(LookupError):
        kb_for("windows_10", "10.0.19045.99999")


def test_version_order() -> None:
    ordered = ["2.0-beta9", "2.0.1", "2.3.1", "2.12.2", "2.15.0"]
    assert sorted(reversed(ordered), key=version_key) == ordered
    assert version_key("8.9p1") < version_key("9.7p1") < version_key("9.8p1")
    assert version_key("1.9.5p2") < version_key("1.9.9") and version_key("1.8.31") < version_key("1.9.5p2")
    assert in_range("5.6.1", "5.6.0", "5.6.2") and not in_range("5.2.5", "5.6.0", "5.6.2")
    assert in_range("7.81.0", "7.69.0", "8.4.0") and not in_range("8.5.0", "7.69.0", "8.4.0")


def test_known_exposures_of_real_versions() -> None:
    def ids(vendor: str, name: str, version: str) -> set[str]:
        return {c.id for c, _ in cves_for(vendor, name, version)}

    assert ids("google", "chrome", "115.0.5790.171") == {"CVE-2023-4863", "CVE-2024-7971"}
    assert ids("google", "chrome", "116.0.5845.188") == {"CVE-2024-7971"}
    assert ids("google", "chrome", "131.0.6778.86") == set()
    assert ids("mozilla", "firefox", "131.0") == {"CVE-2024-9680"}
    assert ids("git-scm", "git", "2.44.0") == {"CVE-2024-32002"} and not ids("git-scm", "git", "2.44.1")
    assert ids("apache", "log4j", "2.14.1") == {"CVE-2021-44228"} and not ids("apache", "log4j", "2.12.2")
    assert ids("openbsd", "openssh", "8.9p1") == {"CVE-2024-6387"} and not ids("openbsd", "openssh", "8.4p1")
    assert ids("microsoft", "windows_10", "10.0.19045.4651") == {
        "CVE-2024-38063",
        "CVE-2024-43451",
        "CVE-2024-49138",
    }
    assert ids("microsoft", "windows_11", "10.0.22631.4460") == {"CVE-2024-49138"}


def test_every_cve_can_be_seeded_and_every_product_is_catalogued() -> None:
    for cve in CVES:
        seeded = [
            (a.vendor, a.product, v)
            for a in cve.affected
            if (p := product(a.vendor, a.product)) is not None
            for v, _ in p.versions
            if a.covers(a.vendor, a.product, v)
        ]
        assert seeded, f"no seeded version carries {cve.id}"
    for platform, software in PLATFORM_SOFTWARE.items():
        assert product(*OS_PRODUCT[platform]) is not None
        assert all(product(v, n) is not None and 0 < share <= 1 for v, n, share in software)
    assert len({p.id for p in PRODUCTS}) == len(PRODUCTS)


def test_configurations_and_exposure_levels() -> None:
    assert len({c.id for c in CONFIGS}) == len(CONFIGS)
    assert all(c.id.startswith("scid-") and 1 <= c.impact <= 10 and c.platforms for c in CONFIGS)
    assert [exposure_level(x) for x in (0, 5, 10, 29.9, 30)] == ["None", "Low", "Medium", "Medium", "High"]
