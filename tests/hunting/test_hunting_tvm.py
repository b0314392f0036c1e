# ruff: noqa: E501 - KQL queries read best on one line each
"""The DeviceTvm* hunting tables: the TVM store's rows, queried with KQL (in process).

The rows the engine answers must be the TVM module's rows (``tvm_hunting_rows``, the source of
the TVM API and its exports), with the schema pages' columns and types; installing or removing
software shows in the next hunt. Over HTTPS, the hunt suite (tests/hunting/hunt_suite.py) runs
TVM hunts too.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from mdekit.emulator.defender.seed.generator import seed_tenant
from mdekit.emulator.defender.tvm.hunting import TVM_HUNTING_TABLES, tvm_hunting_rows
from mdekit.emulator.hunting.engine import Limits
from mdekit.emulator.hunting.errors import KqlError
from mdekit.emulator.hunting.tables import SCHEMA_TYPE
from mdekit.emulator.state import EmulatorState

VULNS = "DeviceTvmSoftwareVulnerabilities"
INVENTORY = "DeviceTvmSoftwareInventory"
KB = "DeviceTvmSoftwareVulnerabilitiesKB"


@pytest.fixture(scope="module")
def shared() -> Iterator[tuple[EmulatorState, str]]:
    """One emulator and a seeded tenant, for the tests that only read it."""
    emulator = EmulatorState.open(None)
    emulator.hunting.limits = Limits(cpu_seconds_per_hour=math.inf, cpu_seconds_per_day=math.inf)
    try:
        yield emulator, _seed(emulator)
    finally:
        emulator.close()


def _seed(state: EmulatorState, *, tvm: bool = True) -> str:
    tid = state.directory.create_tenant("Tvm hunters").id
    seed_tenant(state.defender, tid, machines=12, alerts=40, seed=3, tvm=tvm)
    return tid


def _run(state: EmulatorState, tid: str, query: str) -> list[dict[str, Any]]:
    return list(state.hunting.run(tid, query).rows)


def test_schema_is_the_tvm_modules(shared: tuple[EmulatorState, str]) -> None:
    state, tid = shared
    for table, columns in TVM_HUNTING_TABLES.items():
        result = state.hunting.run(tid, f"{table} | take 1")
        assert [(c.name, c.type) for c in result.columns] == columns, table
        assert result.schema() == [{"Name": c, "Type": SCHEMA_TYPE[t]} for c, t in columns]


def test_rows_are_the_tvm_stores(shared: tuple[EmulatorState, str]) -> None:
    state, tid = shared
    tvm = state.defender.tvm
    expected = Counter(
        (r["DeviceId"], r["SoftwareName"], r["CveId"]) for r in tvm_hunting_rows(tvm, tid, VULNS)
    )
    got = Counter(
        (r["DeviceId"], r["SoftwareName"], r["CveId"])
        for r in _run(state, tid, f"{VULNS} | project DeviceId, SoftwareName, CveId")
    )
    assert got == expected and len(expected) > 0
    inventory = {
        (r["DeviceId"], r["SoftwareName"], r["SoftwareVersion"])
        for r in tvm_hunting_rows(tvm, tid, INVENTORY)
    }
    hunted = {
        (r["DeviceId"], r["SoftwareName"], r["SoftwareVersion"])
        for r in _run(state, tid, f"{INVENTORY} | project DeviceId, SoftwareName, SoftwareVersion")
    }
    assert hunted == inventory and len(inventory) > len(expected) // 10
    # the devices are the tenant's, named as in DeviceInfo
    named = {
        (r["DeviceId"], r["DeviceName"])
        for r in _run(state, tid, f"{INVENTORY} | distinct DeviceId, DeviceName")
    }
    devices = {
        (r["DeviceId"], r["DeviceName"])
        for r in _run(state, tid, "DeviceInfo | distinct DeviceId, DeviceName")
    }
    assert named <= devices


def test_kb_values_and_types(shared: tuple[EmulatorState, str]) -> None:
    state, tid = shared
    rows = {r["CveId"]: r for r in _run(state, tid, KB)}
    source = {r["CveId"]: r for r in tvm_hunting_rows(state.defender.tvm, tid, KB)}
    assert set(rows) == set(source)
    cve, row = next(iter(source.items()))
    assert rows[cve]["CvssScore"] == row["CvssScore"]  # a string, as on the schema page
    assert rows[cve]["IsExploitAvailable"] is row["IsExploitAvailable"]
    assert rows[cve]["AffectedSoftware"] == row["AffectedSoftware"]  # dynamic: a JSON list
    assert rows[cve]["PublishedDate"] == row["PublishedDate"].strftime("%Y-%m-%dT%H:%M:%S.0000000Z")


def test_join_answers_as_python_does(shared: tuple[EmulatorState, str]) -> None:
    state, tid = shared
    tvm = state.defender.tvm
    exploitable = {r["CveId"] for r in tvm_hunting_rows(tvm, tid, KB) if r["IsExploitAvailable"]}
    per_cve: dict[str, set[str]] = {}
    for r in tvm_hunting_rows(tvm, tid, VULNS):
        if r["CveId"] in exploitable:
            per_cve.setdefault(r["CveId"], set()).add(r["DeviceId"])
    rows = _run(
        state,
        tid,
        f"""{VULNS}
| join kind=inner ({KB} | where IsExploitAvailable) on CveId
| summarize Devices = dcount(DeviceId) by CveId""",
    )
    assert {r["CveId"]: r["Devices"] for r in rows} == {c: len(d) for c, d in per_cve.items()}
    assert rows


def test_snapshot_tables_ignore_the_time_window(shared: tuple[EmulatorState, str]) -> None:
    state, tid = shared
    count = _run(state, tid, f"{INVENTORY} | count")[0]["Count"]
    # no Timestamp column: a Graph Timespan or the 30-day window does not hide snapshot rows
    windowed = state.hunting.run(tid, f"{INVENTORY} | count", window=(None, None)).rows
    assert windowed[0]["Count"] == count > 0
    with pytest.raises(KqlError, match="Timestamp"):
        state.hunting.run(tid, f"{INVENTORY} | where Timestamp > ago(1d)")


def test_installing_and_removing_software_shows_in_the_next_hunt(shared: tuple[EmulatorState, str]) -> None:
    state, _ = shared
    tid = _seed(state)  # a tenant of its own: this test changes its software
    tvm = state.defender.tvm
    vulns = list(tvm_hunting_rows(tvm, tid, VULNS))
    sample = vulns[0]
    holders = {r["DeviceId"] for r in vulns if r["CveId"] == sample["CveId"]}
    machines = [m["id"] for m in state.defender.iter_machines(tid)]
    target = next(m for m in machines if m not in holders)
    query = f'{VULNS} | where CveId == "{sample["CveId"]}" | distinct DeviceId'
    assert {r["DeviceId"] for r in _run(state, tid, query)} == holders
    tvm.install(tid, target, sample["SoftwareVendor"], sample["SoftwareName"], sample["SoftwareVersion"])
    assert {r["DeviceId"] for r in _run(state, tid, query)} == holders | {target}
    assert tvm.uninstall(tid, target, sample["SoftwareVendor"], sample["SoftwareName"])
    assert {r["DeviceId"] for r in _run(state, tid, query)} == holders


def test_tenant_without_tvm_has_empty_tables_but_the_kb(shared: tuple[EmulatorState, str]) -> None:
    state, _ = shared
    tid = _seed(state, tvm=False)
    assert _run(state, tid, f"{INVENTORY} | count")[0]["Count"] == 0
    assert _run(state, tid, f"{VULNS} | count")[0]["Count"] == 0
    assert _run(state, tid, f"{KB} | count")[0]["Count"] > 0  # the knowledge base is not per tenant
    assert _run(state, tid, "DeviceProcessEvents | count")[0]["Count"] > 0


def test_secure_configuration_assessment(shared: tuple[EmulatorState, str]) -> None:
    state, tid = shared
    table = "DeviceTvmSecureConfigurationAssessment"
    source = {
        (r["DeviceId"], r["ConfigurationId"]): r["IsCompliant"]
        for r in tvm_hunting_rows(state.defender.tvm, tid, table)
    }
    rows = _run(state, tid, f"{table} | project DeviceId, ConfigurationId, IsCompliant")
    assert {(r["DeviceId"], r["ConfigurationId"]): r["IsCompliant"] for r in rows} == source
    assert len(rows) == len(source) > 0 and set(source.values()) == {True, False}
    # the schema page's example: failing antivirus settings, named from the KB
    failing = _run(
        state,
        tid,
        f"""{table}
| where ConfigurationSubcategory == 'Antivirus' and IsApplicable == 1 and IsCompliant == 0
| join kind=leftouter (DeviceTvmSecureConfigurationAssessmentKB | project ConfigurationId, ConfigurationName) on ConfigurationId
| distinct ConfigurationId, ConfigurationName""",
    )
    assert failing and all(r["ConfigurationName"] for r in failing)
