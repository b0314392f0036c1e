"""The seed generator: deterministic per seed, realistic and consistent, same answers after a bulk seed."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from defender_helpers import Api

from mdekit.emulator.clock import VirtualClock
from mdekit.emulator.defender import renderings
from mdekit.emulator.defender.alerts import DATA_FIELDS, READ_COLUMNS, alert_from_row, render
from mdekit.emulator.defender.enums import ALERT_KEYS, EVIDENCE_KEYS
from mdekit.emulator.defender.jsonio import answer_bytes
from mdekit.emulator.defender.listing import ListQuery
from mdekit.emulator.defender.seed import alerts as seed_alerts
from mdekit.emulator.defender.seed import pipeline, seed_tenant
from mdekit.emulator.state import EmulatorState

_NOW = 1_900_000_000.0


def _first_and_last(seed: int, *, alerts: int = 300) -> tuple[dict[str, Any], dict[str, Any], dict[str, int]]:
    state = EmulatorState.open(None, clock=VirtualClock(frozen_at=_NOW))
    try:
        # the store takes any tenant key: a fixed one lets two runs compare aadTenantId too
        counts = seed_tenant(state.defender, "t-fixed", machines=20, alerts=alerts, seed=seed).counts
        everything = list(state.defender.iter_alerts("t-fixed"))
        return everything[0], everything[-1], counts
    finally:
        state.close()


def test_same_seed_same_alerts_different_seed_different() -> None:
    first, last, counts = _first_and_last(11)
    again_first, again_last, again_counts = _first_and_last(11)
    assert (first, last, counts) == (again_first, again_last, again_counts)
    other_first, other_last, _ = _first_and_last(12)
    assert other_first != first and other_last != last
    assert other_first["id"] != first["id"]


def test_seeded_alerts_look_like_the_service() -> None:
    first, last, counts = _first_and_last(5)
    for alert in (first, last):
        assert list(alert) == list(ALERT_KEYS)
        assert alert["id"].startswith("da") and alert["aadTenantId"] == "t-fixed"
        assert alert["description"] == f"{alert['title']} on {alert['computerDnsName']}."
        assert alert["firstEventTime"] < alert["lastEventTime"] < alert["alertCreationTime"]
        assert alert["alertCreationTime"] <= alert["lastUpdateTime"]
        kinds = [ev["entityType"] for ev in alert["evidence"]]
        assert kinds[:2] == ["File", "Process"]
        assert all(list(ev) == list(EVIDENCE_KEYS) for ev in alert["evidence"])
    # alerts list oldest first, over the last 30 days before the (hour-aligned) clock
    assert first["alertCreationTime"] < last["alertCreationTime"] < "2030-03-17T18:00"
    assert counts["alerts"] == 300 and counts["incidents"] <= 300 and counts["investigations"] > 0


def test_bulk_seed_keeps_filters_lookups_and_indexes(
    api_for: Callable[..., Api], state: EmulatorState, tenant: str
) -> None:
    seed_tenant(state.defender, tenant, machines=30, alerts=6_000, seed=2)  # large: indexes built after
    api = api_for(
        tenant, ["Alert.Read.All", "Machine.Read.All", "File.Read.All", "Ip.Read.All", "Url.Read.All"]
    )
    everything = list(state.defender.iter_alerts(tenant))
    high = api.get("/api/alerts?$filter=severity eq 'High' and status eq 'New'&$top=10000").json()["value"]
    assert [a["id"] for a in high] == [
        a["id"] for a in everything if a["severity"] == "High" and a["status"] == "New"
    ]
    some = everything[4321]
    got = api.get(f"/api/alerts/{some['id']}?$expand=evidence").json()
    assert got == {**some, "@odata.context": got["@odata.context"]}
    sha1 = some["evidence"][0]["sha1"]
    related = {a["id"] for a in api.get(f"/api/files/{sha1}/alerts").json()["value"]}
    assert related == {a["id"] for a in everything if any(ev["sha1"] == sha1 for ev in a["evidence"])}
    assert some["machineId"] in {
        m["id"] for m in api.get(f"/api/files/{sha1.upper()}/machines").json()["value"]
    }
    stats = api.get(f"/api/files/{sha1}/stats").json()
    assert stats["organizationPrevalence"] == (
        len({a["machineId"] for a in everything if a["id"] in related})
    )
    assert stats["orgFirstSeen"] == min(a["firstEventTime"] for a in everything if a["id"] in related)
    names = {r[0] for r in state.db.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
    assert {"def_alerts_status", "def_alerts_created_page", "def_alerts_machine"} <= names
    assert "def_alerts_created" not in names  # redundant with def_alerts_created_page (issue 19)


def test_reseeding_a_small_tenant_next_to_a_large_one(state: EmulatorState, tenant: str) -> None:
    other = state.directory.create_tenant("Other").id
    seed_tenant(state.defender, other, machines=10, alerts=6_000, seed=1)
    seed_tenant(state.defender, tenant, machines=10, alerts=5_000, seed=1)  # indexes kept (table larger)
    seed_tenant(state.defender, tenant, machines=10, alerts=5_000, seed=1)  # replaces, does not add
    assert state.defender.counts(tenant)["alerts"] == 5_000
    assert state.defender.counts(other)["alerts"] == 6_000
    ids = [a["id"] for a in state.defender.iter_alerts(tenant)]
    assert len(set(ids)) == 5_000


def test_seed_persists_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "emu.db"
    state = EmulatorState.open(path, clock=VirtualClock(frozen_at=_NOW))
    tid = state.directory.create_tenant("P").id
    seed_tenant(state.defender, tid, machines=20, alerts=5_500, seed=4)
    before = list(state.defender.iter_alerts(tid))
    state.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    reopened = EmulatorState.open(path, clock=VirtualClock(frozen_at=_NOW))
    try:
        assert list(reopened.defender.iter_alerts(tid)) == before
    finally:
        reopened.close()


def test_wrong_method_is_405_in_the_mde_envelope(api_for: Callable[..., Api], seeded: str) -> None:
    api = api_for(seeded, ["Alert.ReadWrite.All"])
    r = api.request("PATCH", "/api/alerts")
    assert r.status_code == 405
    error = r.json()["error"]
    assert error["code"] == "BadRequest" and "PATCH" in error["message"]
    assert error["target"] == r.headers["request-id"] and "GET" in r.headers["Allow"]


def test_a_data_file_with_value_lists_is_upgraded_to_renderings(tmp_path: Path) -> None:
    """Issue 19: ``data`` held the non-column fields as a value list; opening such a file rewrites
    each row as the alert's rendering, and answers stay what they were."""
    path = tmp_path / "lists.db"
    state = EmulatorState.open(path, clock=VirtualClock(frozen_at=_NOW))
    tid = state.directory.create_tenant("Lists").id
    seed_tenant(state.defender, tid, machines=5, alerts=40, seed=9)
    before = list(state.defender.iter_alerts(tid))
    answer = answer_bytes({"value": state.defender.alerts.answer_page(tid, ListQuery())[0]})
    state.close()
    with sqlite3.connect(path) as conn:
        for alert in before:
            values = [alert[k] for k in DATA_FIELDS]  # times in the stored 7-digit form, as then
            conn.execute(
                "UPDATE def_alerts SET data = ? WHERE id = ?",  # (the file's one tenant)
                (json.dumps(values), alert["id"]),
            )
        conn.execute("DELETE FROM meta WHERE key = 'def_alerts_layout'")
    reopened = EmulatorState.open(path, clock=VirtualClock(frozen_at=_NOW))
    try:
        assert list(reopened.defender.iter_alerts(tid)) == before
        assert answer_bytes({"value": reopened.defender.alerts.answer_page(tid, ListQuery())[0]}) == answer
    finally:
        reopened.close()


def test_a_data_file_in_the_earlier_layout_is_upgraded(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    state = EmulatorState.open(path, clock=VirtualClock(frozen_at=_NOW))
    tid = state.directory.create_tenant("Old").id
    seed_tenant(state.defender, tid, machines=5, alerts=40, seed=8)
    before = list(state.defender.iter_alerts(tid))
    state.close()
    # rewrite it as the earlier emulator stored it: every field in data, one entity row per link,
    # the tenant id in every row (no short tenant keys then)
    with sqlite3.connect(path) as conn:
        for table in ("def_alerts", "def_alert_evidence", "def_incidents", "def_investigations"):
            conn.execute(f"UPDATE {table} SET tenant = ?", (tid,))
        conn.execute("DROP TABLE def_tenant_keys")
        conn.execute("CREATE TABLE def_alert_entities (tenant TEXT, alert_id TEXT, kind TEXT, value TEXT)")
        for alert in before:
            values = [alert[k] if k != "evidence" else [] for k in ALERT_KEYS]
            conn.execute(
                "UPDATE def_alerts SET data = ? WHERE tenant = ? AND id = ?",
                (json.dumps(values), tid, alert["id"]),
            )
            sha1 = alert["evidence"][0]["sha1"]
            conn.execute("INSERT INTO def_alert_entities VALUES (?, ?, 'file', ?)", (tid, alert["id"], sha1))
        conn.execute("DELETE FROM def_alert_links")
    reopened = EmulatorState.open(path, clock=VirtualClock(frozen_at=_NOW))
    try:
        assert list(reopened.defender.iter_alerts(tid)) == before
        sha1 = before[7]["evidence"][0]["sha1"]
        related = reopened.defender.alerts.related(tid, "file", sha1, ListQuery())[0]
        assert {a["id"] for a in related} == {a["id"] for a in before if a["evidence"][0]["sha1"] == sha1}
    finally:
        reopened.close()
    with sqlite3.connect(path) as conn:
        assert (
            conn.execute("SELECT name FROM sqlite_master WHERE name = 'def_alert_entities'").fetchone()
            is None
        )


def test_a_large_seed_stores_renderings_compressed_with_the_same_answers(
    tmp_path: Path, monkeypatch: Any
) -> None:
    """Issue 19: a large seed (``COMPRESS_MIN`` alerts or more; lowered here to keep the test small)
    stores each rendering zstd-compressed with a dictionary trained on its first alerts (kept in the
    file), its investigations too when there are 500 or more, and no title column; answers are byte
    for byte those of the text form, in this process and after the file is opened afresh."""
    monkeypatch.setattr(seed_alerts, "COMPRESS_MIN", 2_000)
    path = tmp_path / "emu.db"
    state = EmulatorState.open(path, clock=VirtualClock(frozen_at=_NOW))
    tid = state.directory.create_tenant("Packed").id
    answers: list[bytes] = []  # investigations: as text, then compressed

    def seed_and_answer() -> tuple[bytes, dict[str, int], int]:
        seed_tenant(state.defender, tid, machines=20, alerts=2_500, seed=3)
        body = answer_bytes({"value": state.defender.alerts.answer_page(tid, ListQuery())[0]})
        investigations = state.defender.lookups.investigations(tid, ListQuery())[0]
        assert len(investigations) >= 500
        one = state.defender.lookups.investigation(tid, investigations[-1]["triggeringAlertId"])
        answers.append(answer_bytes({"value": investigations, "one": one}))
        rows = state.db.query(
            "SELECT typeof(data) AS t, COUNT(*) AS c, SUM(length(CAST(data AS BLOB))) AS b "
            "FROM def_alerts WHERE tenant = tk(?) GROUP BY 1",
            (tid,),
        )
        return body, {r["t"]: r["c"] for r in rows}, sum(r["b"] for r in rows)

    with monkeypatch.context() as m:
        m.setattr(seed_alerts, "train", lambda *args: None)  # the text form, for comparison
        text_body, text_forms, text_bytes = seed_and_answer()
        text_alerts = list(state.defender.iter_alerts(tid))
    body, forms, packed_bytes = seed_and_answer()
    assert text_forms == {"text": 2_500} and forms == {"blob": 2_500}
    assert body == text_body and answers[0] == answers[1] and b'"one":{"id":' in answers[0]
    stored = state.db.query("SELECT DISTINCT typeof(data) AS t FROM def_investigations")
    assert [r["t"] for r in stored] == ["blob"]
    assert packed_bytes * 4 < text_bytes
    before = list(state.defender.iter_alerts(tid))
    # no title column (the rendering holds it), the same alerts read back, titles included
    titles = state.db.query("SELECT COUNT(title) AS c FROM def_alerts WHERE tenant = tk(?)", (tid,))
    assert titles[0]["c"] == 0
    assert before == text_alerts and all(a["title"] for a in before)
    state.close()
    # a fresh process knows no dictionary: it reads them from the file
    monkeypatch.setattr(renderings, "_dictionaries", {})
    monkeypatch.setattr(renderings, "_zdicts", {})
    monkeypatch.setattr(renderings, "_local", threading.local())
    reopened = EmulatorState.open(path, clock=VirtualClock(frozen_at=_NOW))
    try:
        assert list(reopened.defender.iter_alerts(tid)) == before
        again = answer_bytes({"value": reopened.defender.alerts.answer_page(tid, ListQuery())[0]})
        assert again == text_body
        resolved = [a for a in before if a["status"] == "Resolved"]
        row = reopened.db.query_one(
            "SELECT json_extract(alert_json(data), '$.classification') AS c FROM def_alerts "
            "WHERE tenant = tk(?) AND id = ?",
            (tid, resolved[0]["id"]),
        )
        assert row is not None and row["c"] == resolved[0]["classification"] is not None
    finally:
        reopened.close()


def test_each_seeded_rendering_is_what_render_makes_of_the_alert(state: EmulatorState, tenant: str) -> None:
    """The seed splices each alert's rendering from JSON pieces (issue 19): it must be exactly what
    :func:`render` (``orjson.dumps`` of the alert's dict in the service's key order) gives, for every
    alert - resolved or not, with or without investigation, assignee, threat family, users."""
    seed_tenant(state.defender, tenant, machines=40, alerts=3_000, seed=6)
    rows = state.db.query(f"SELECT {READ_COLUMNS} FROM def_alerts WHERE tenant = tk(?) ORDER BY n", (tenant,))
    assert len(rows) == 3_000
    for row in rows:
        stored = renderings.unpack(row["data"])
        assert (stored if isinstance(stored, str) else stored.decode()) == render(alert_from_row(row))
    alerts = [alert_from_row(r) for r in rows]
    for key in ("investigationId", "assignedTo", "classification", "resolvedTime", "threatFamilyName"):
        assert {a[key] is None for a in alerts} == {True, False}, key


def test_alerts_made_in_a_child_process_are_the_same(monkeypatch: Any) -> None:
    """A large seed makes its alerts in a child process (issue 19): the same tenant as made in
    process - alerts with evidence, incidents, investigations, entity links, counts."""

    def seeded(parallel_min: int) -> tuple[Any, ...]:
        monkeypatch.setattr(pipeline, "PARALLEL_MIN", parallel_min)
        state = EmulatorState.open(None, clock=VirtualClock(frozen_at=_NOW))
        try:
            counts = seed_tenant(state.defender, "t-fixed", machines=30, alerts=2_500, seed=5).counts
            alerts = list(state.defender.iter_alerts("t-fixed"))
            tables = {
                t: [tuple(r) for r in state.db.query(f"SELECT * FROM {t} ORDER BY 1, 2, 3")]
                for t in ("def_incidents", "def_investigations", "def_alert_links")
            }
            return counts, alerts, tables
        finally:
            state.close()

    in_process, in_child = seeded(10**9), seeded(1)
    assert in_child == in_process
    counts, alerts, tables = in_child
    assert counts["alerts"] == len(alerts) == 2_500 and counts["incidents"] == len(tables["def_incidents"])
    assert all(len(rows) > 50 for rows in tables.values())


def test_a_failed_generator_process_fails_the_seed_and_keeps_the_data(
    state: EmulatorState, tenant: str, monkeypatch: Any
) -> None:
    seed_tenant(state.defender, tenant, machines=10, alerts=300, seed=1)
    before = list(state.defender.iter_alerts(tenant))
    monkeypatch.setattr(pipeline, "PARALLEL_MIN", 1)
    monkeypatch.setattr(pipeline, "CHILD", "mdekit.emulator.defender.seed.no_such_module")
    try:
        seed_tenant(state.defender, tenant, machines=10, alerts=2_000, seed=2)
    except RuntimeError as exc:
        assert "generator process failed" in str(exc)
    else:
        raise AssertionError("the seed did not fail")
    assert list(state.defender.iter_alerts(tenant)) == before  # rolled back


_KILLED_MID_SEED = r"""
import sys, time
from mdekit.emulator.clock import VirtualClock
from mdekit.emulator.defender.alerts import AlertStore
from mdekit.emulator.defender.seed import seed_tenant
from mdekit.emulator.state import EmulatorState
insert = AlertStore.insert_rows
def insert_then_hang(conn, rows, evidence):
    insert(conn, rows, evidence)
    print("mid-seed", flush=True)
    time.sleep(120)
AlertStore.insert_rows = staticmethod(insert_then_hang)
state = EmulatorState.open(sys.argv[1], clock=VirtualClock(frozen_at=1_900_000_000.0))
seed_tenant(state.defender, sys.argv[2], machines=20, alerts=30_000, seed=2)
"""


def test_a_large_seed_killed_midway_leaves_the_previous_data(tmp_path: Path) -> None:
    """A large seed writes through the rollback journal (issue 19): SIGKILL in the middle of it,
    and the next open rolls it back - the file is sound and holds the data from before."""
    path = tmp_path / "emu.db"
    state = EmulatorState.open(path, clock=VirtualClock(frozen_at=_NOW))
    tid = state.directory.create_tenant("Kill").id
    seed_tenant(state.defender, tid, machines=10, alerts=6_000, seed=1)
    before = list(state.defender.iter_alerts(tid))
    state.close()
    child = subprocess.Popen(
        [sys.executable, "-c", _KILLED_MID_SEED, str(path), tid], stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "mid-seed"
        assert Path(f"{path}-journal").exists()  # writing through the rollback journal
    finally:
        child.kill()
        child.wait()
        if child.stdout is not None:
            child.stdout.close()
    reopened = EmulatorState.open(path, clock=VirtualClock(frozen_at=_NOW))
    try:
        assert reopened.db.query_one("PRAGMA integrity_check")[0] == "ok"
        assert list(reopened.defender.iter_alerts(tid)) == before
        assert reopened.db.query_one("PRAGMA journal_mode")[0] == "wal"
    finally:
        reopened.close()


def test_the_hunting_world_reads_compressed_alerts_as_it_reads_text(monkeypatch: Any) -> None:
    """Advanced hunting's alert tables read the seed's rows straight from SQL (renderings through
    ``alert_json()``, evidence recipes unpacked): the same rows whichever form the seed stored."""
    from mdekit.emulator.hunting.data.world import _alert_rows

    monkeypatch.setattr(seed_alerts, "COMPRESS_MIN", 1_000)

    def rows(packed: bool) -> list[Any]:
        state = EmulatorState.open(None, clock=VirtualClock(frozen_at=_NOW))
        try:
            with monkeypatch.context() as m:
                if not packed:
                    m.setattr(seed_alerts, "train", lambda *args: None)
                seed_tenant(state.defender, "t-fixed", machines=20, alerts=1_200, seed=4)
            forms = state.db.query("SELECT DISTINCT typeof(data) AS t FROM def_alerts")
            assert [r["t"] for r in forms] == ["blob" if packed else "text"]
            return list(_alert_rows(state.defender, "t-fixed"))
        finally:
            state.close()

    text = rows(False)
    assert len(text) == 1_200 and rows(True) == text


def test_a_seed_below_the_threshold_stores_text(state: EmulatorState, tenant: str) -> None:
    """Small seeds (what most test suites make) keep renderings as text: a compressed one costs
    every list read a decompression (``COMPRESS_MIN``); the threshold decides, not the count alone."""
    seed_tenant(state.defender, tenant, machines=20, alerts=2_500, seed=8)
    forms = state.db.query(
        "SELECT DISTINCT typeof(data) AS t FROM def_alerts WHERE tenant = tk(?)", (tenant,)
    )
    assert [r["t"] for r in forms] == ["text"]
    evidence = state.db.query("SELECT DISTINCT typeof(evidence) AS t FROM def_alert_evidence")
    assert [r["t"] for r in evidence] == ["text"]


def test_without_a_python_to_start_the_alerts_are_made_in_process(
    state: EmulatorState, tenant: str, monkeypatch: Any
) -> None:
    monkeypatch.setattr(pipeline, "PARALLEL_MIN", 1)
    monkeypatch.setattr(pipeline.sys, "executable", str(Path("/nonexistent/python")))
    counts = seed_tenant(state.defender, tenant, machines=10, alerts=1_000, seed=2).counts
    assert counts["alerts"] == 1_000 == len(list(state.defender.iter_alerts(tenant)))


def test_seeded_rows_hold_a_short_tenant_key_and_files_without_keys_still_answer(tmp_path: Path) -> None:
    """Issue 19: a seed stores its tenant's short key, not the 36-character id, in the alert tables'
    rows (and so in their indexes); answers name the tenant id as before. A data file written before
    keys (the id in every row, no key table, the old creation-time index) answers the same."""
    path = tmp_path / "keys.db"
    state = EmulatorState.open(path, clock=VirtualClock(frozen_at=_NOW))
    tid = state.directory.create_tenant("Keys").id
    other = state.directory.create_tenant("Other").id
    seed_tenant(state.defender, other, machines=3, alerts=20, seed=2)
    seed_tenant(state.defender, tid, machines=5, alerts=60, seed=3)
    keyed = ("def_alerts", "def_alert_evidence", "def_incidents", "def_investigations")
    for table in keyed:
        stored = {r[0] for r in state.db.query(f"SELECT DISTINCT tenant FROM {table}")}
        assert stored == {"1", "2"}, table
    before = list(state.defender.iter_alerts(tid))
    assert before and {a["aadTenantId"] for a in before} == {tid}
    query = ListQuery(where="status = ?", params=["New"])
    page = state.defender.alerts.page(tid, query)[0]
    incidents = state.defender.incidents.page(tid, "", [], "id", 0, 1000)[0]
    assert len(incidents) == state.defender.counts(tid)["incidents"] > 0
    assert state.defender.counts(other)["alerts"] == 20
    state.close()
    with sqlite3.connect(path) as conn:  # the file as an emulator before keys wrote it
        keys = dict(conn.execute("SELECT key, tenant FROM def_tenant_keys"))
        for table in keyed:
            for key, tenant in keys.items():
                conn.execute(f"UPDATE {table} SET tenant = ? WHERE tenant = ?", (tenant, key))
        conn.execute("DROP TABLE def_tenant_keys")
        conn.execute("CREATE INDEX def_alerts_created ON def_alerts(tenant, alert_creation_time)")
    reopened = EmulatorState.open(path, clock=VirtualClock(frozen_at=_NOW))
    try:
        assert list(reopened.defender.iter_alerts(tid)) == before
        assert reopened.defender.alerts.page(tid, ListQuery(where="status = ?", params=["New"]))[0] == page
        assert reopened.defender.incidents.page(tid, "", [], "id", 0, 1000)[0] == incidents
        names = {r[0] for r in reopened.db.query("SELECT name FROM sqlite_master WHERE type = 'index'")}
        assert "def_alerts_created" not in names
        seed_tenant(reopened.defender, other, machines=3, alerts=20, seed=2)  # a re-seed: keyed again
        assert {r[0] for r in reopened.db.query("SELECT DISTINCT tenant FROM def_alerts")} == {tid, "1"}
        assert reopened.defender.counts(other)["alerts"] == 20
        assert list(reopened.defender.iter_alerts(tid)) == before
    finally:
        reopened.close()


def test_alerts_inserted_together_on_a_seeded_tenant_are_all_found(state: EmulatorState, tenant: str) -> None:
    """Alerts written by the API on a seeded tenant go under its short key, each of a batch."""
    seed_tenant(state.defender, tenant, machines=3, alerts=10, seed=4)
    some = list(state.defender.iter_alerts(tenant))[:2]
    copies = [({**a, "id": f"da{i}_copy"}, a["evidence"]) for i, a in enumerate(some)]
    with state.db.tx() as c:
        state.defender.alerts.insert_many(c, tenant, copies)
    for alert, evidence in copies:
        found = state.defender.alerts.get(tenant, alert["id"], with_evidence=True)
        assert found is not None and found["evidence"] == evidence
    assert state.defender.counts(tenant)["alerts"] == 12


def test_values_compressed_with_an_earlier_seeds_dictionary_still_read(monkeypatch: Any) -> None:
    """A seed's dictionaries are stored marked (``MAGICLESS``): its values are zstd frames without
    the 4-byte magic number (issue 19). A data file from before holds plain dictionaries and frames
    with it: both read back, in a process that knows neither dictionary until it loads them."""
    values = [json.dumps({"id": f"da{i:020d}", "title": f"Alert {i % 7}", "n": i}) for i in range(600)]
    packer = renderings.train([v.encode() for v in values[:500]], size=4096)
    assert packer is not None and packer.dictionary.startswith(renderings.MAGICLESS)
    plain = renderings.Packer(packer.dictionary[len(renderings.MAGICLESS) :], renderings.RENDERING_LEVEL)
    new, old = packer.pack_many(values), [plain.pack_text(v) for v in values]
    assert all(len(a) + 4 == len(b) for a, b in zip(new, old, strict=True))
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE TABLE def_alert_dicts (tenant TEXT, key BLOB, dict BLOB, PRIMARY KEY (tenant, key))")
    renderings.save_dictionary(conn, "t", packer.dictionary)
    renderings.save_dictionary(conn, "t", plain.dictionary)
    for name, fresh in (("_dictionaries", {}), ("_zdicts", {}), ("_local", threading.local())):
        monkeypatch.setattr(renderings, name, fresh)
    renderings.load_dictionaries(conn)
    assert [renderings.unpack_text(v) for v in new] == values == [renderings.unpack_text(v) for v in old]


def test_a_dictionary_of_a_given_shape_is_trained_once_and_reads_back(monkeypatch: Any) -> None:
    """Issue 19: a given shape (``SEED_SHAPE``, the seed's renderings and investigations) skips
    zstd's search of ``k``/``d`` - one training on every sample - and its values read back as well
    as those of a searched dictionary, compressed within 10 % of its size."""
    values = [json.dumps({"id": f"da{i:020d}", "title": f"Alert {i % 7}", "n": i}) for i in range(700)]
    calls: list[dict[str, Any]] = []
    real = renderings.zstandard.train_dictionary

    def spy(size: int, samples: list[bytes], **kwargs: Any) -> Any:
        calls.append(kwargs)
        return real(size, samples, **kwargs)

    monkeypatch.setattr(renderings.zstandard, "train_dictionary", spy)
    samples = [v.encode() for v in values[:600]]
    shaped = renderings.train(samples, size=4096, shape=renderings.SEED_SHAPE)
    searched = renderings.train(samples, size=4096)
    assert shaped is not None and searched is not None
    k, d = renderings.SEED_SHAPE
    assert calls == [{"k": k, "d": d, "split_point": 1.0, "threads": 0}, {"threads": 0}]
    packed = shaped.pack_many(values)
    assert [renderings.unpack_text(v) for v in packed] == values
    assert sum(map(len, packed)) <= 1.1 * sum(map(len, searched.pack_many(values)))
