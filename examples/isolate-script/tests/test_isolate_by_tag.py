"""Testing isolate_by_tag.py against the mdekit emulator: no tenant, no network, no mocks.

``mde_env`` gives a fresh emulator tenant + app, sets AZURE_TENANT_ID/CLIENT_ID/CLIENT_SECRET and
CA trust, and makes login.microsoftonline.com / api.securitycenter.microsoft.com reach the emulator
in this process, so the script runs exactly as in production.
"""

from __future__ import annotations

import httpx
import pytest
from isolate_by_tag import API, Isolator

ISOLATE = "/api/machines/*/isolate"


@pytest.fixture
def tagged(mde_env, mde_fresh):
    """Seed the tenant and tag three machines 'quarantine'; returns their ids."""
    mde_fresh.seed(mde_env.tenant_id, machines=8, alerts=5)
    headers = {"Authorization": f"Bearer {mde_env.token()}"}
    machines = httpx.get(f"{API}/machines", params={"$top": "3"}, headers=headers).json()["value"]
    for m in machines:
        resp = httpx.post(
            f"{API}/machines/{m['id']}/tags", json={"Value": "quarantine", "Action": "Add"}, headers=headers
        )
        resp.raise_for_status()
    mde_fresh.journal.clear()
    return sorted(m["id"] for m in machines)


@pytest.mark.mde(permissions=["Machine.Read.All", "Machine.ReadWrite.All", "Machine.Isolate"])
def test_isolates_every_tagged_machine(tagged, mde_journal):
    report = Isolator().isolate_tag("quarantine")

    assert sorted(report.isolated) == tagged
    assert mde_journal.count(method="POST", path=ISOLATE, status=201) == 3
    # Running it again finds the isolations still pending and does not fail.
    assert sorted(Isolator().isolate_tag("quarantine").already_pending) == tagged


@pytest.mark.mde(permissions=["Machine.Read.All", "Machine.ReadWrite.All", "Machine.Isolate"])
def test_waits_out_throttling(tagged, mde_faults, mde_journal, mde_clock):
    mde_faults.add(method="POST", path=ISOLATE, status=429, retry_after=7, nth=2)
    waited = []

    def sleep(seconds):  # no real waiting: move the emulator's clock instead
        waited.append(seconds)
        mde_clock.advance(seconds)

    report = Isolator(sleep=sleep).isolate_tag("quarantine")

    assert sorted(report.isolated) == tagged
    assert waited == [7.0]
    assert [e["status"] for e in mde_journal.entries(method="POST", path=ISOLATE)] == [201, 429, 201, 201]


@pytest.mark.mde(permissions=["Machine.Read.All", "Machine.ReadWrite.All", "Machine.Isolate"])
def test_token_expiring_mid_run_is_renewed(tagged, mde_env, mde_clock, mde_journal):
    isolator = Isolator()
    isolator.machines_with_tag("quarantine")  # first token taken here
    mde_clock.advance(2 * 3600)  # the token (about 65 minutes) is now expired on the service's clock

    report = isolator.isolate_tag("quarantine")

    assert sorted(report.isolated) == tagged
    assert mde_journal.count(path="/api/machines/findbytag", status=401) == 1
    assert mde_journal.count(method="POST", path=f"/{mde_env.tenant_id}/oauth2/v2.0/token") == 2
