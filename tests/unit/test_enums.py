"""The catalogue's enumerations (mdekit.enums) are the ones the emulator seeds and enforces."""

from __future__ import annotations

from mdekit import catalog, enums
from mdekit.emulator.defender.seed.pools import ALERT_TEMPLATES, PLATFORMS


def test_seeded_values_are_catalogue_values() -> None:
    assert {p[0] for p in PLATFORMS} <= set(enums.OS_PLATFORMS)
    assert {t[0] for t in ALERT_TEMPLATES} <= set(enums.ALERT_CATEGORIES)
    assert {t[4] for t in ALERT_TEMPLATES} <= set(enums.SETTABLE_SEVERITIES)


def test_settable_subsets_and_the_catalogue_re_export() -> None:
    assert set(enums.ALERT_UPDATE_STATUS) == set(enums.ALERT_STATUS) - {"Unknown"}
    assert set(enums.SETTABLE_SEVERITIES) == set(enums.SEVERITIES) - {"UnSpecified"}
    assert catalog.INVESTIGATION_STATES is enums.INVESTIGATION_STATES
    for name in enums.__all__:  # value lists only, no duplicates within a list
        values = getattr(enums, name)
        assert values and len(set(values)) == len(values), name
