"""Our own realistic hunting queries over the real HTTPS API of a seeded emulator.

Every query runs (HTTP 200; never a 500, never a timeout), and every technique hunt finds the
technique in the generated data. The public collections are measured by
``benchmarks/hunting_corpus.py`` (see benchmarks/README.md).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest
from hunt_suite import HUNTS, Hunt

pytestmark = pytest.mark.socket

MDE_URI = "https://api.securitycenter.microsoft.com"


@pytest.fixture(scope="module")
def outcomes(emu_server: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, Any]]:
    """Run every hunt once on one seeded tenant: name -> (HTTP status, body)."""
    import ssl

    from mdekit.catalog import MDE

    state = emu_server.state
    state.reset()
    verify = ssl.create_default_context(cafile=str(emu_server.ca_cert))
    with httpx.Client(base_url=emu_server.url, verify=verify, timeout=120) as http:
        tid = http.post("/_emulator/tenants", json={"displayName": "Hunters"}).json()["tenantId"]
        seeded = http.post(f"/_emulator/tenants/{tid}/seed", json={"machines": 40, "alerts": 300, "seed": 7})
        assert seeded.status_code == 200, seeded.text
        assert http.post("/_emulator/throttling", json={"enabled": False}).status_code == 200
        body = {"displayName": "hunter", "permissions": list(MDE.roles), "grantConsent": True, "secret": True}
        app = http.post(f"/_emulator/tenants/{tid}/applications", json=body).json()
        form = {
            "grant_type": "client_credentials",
            "client_id": app["appId"],
            "client_secret": app["secret"]["value"],
            "scope": f"{MDE_URI}/.default",
        }
        token = http.post(f"/{tid}/oauth2/v2.0/token", data=form).json()["access_token"]
        out: dict[str, tuple[int, Any]] = {}
        for hunt in HUNTS:
            r = http.post(
                "/api/advancedqueries/run",
                json={"Query": hunt.query},
                headers={"Authorization": f"Bearer {token}"},
            )
            out[hunt.name] = (r.status_code, r.json())
    state.reset()
    return out


def test_the_suite_is_broad() -> None:
    assert len(HUNTS) >= 40 and len({h.name for h in HUNTS}) == len(HUNTS)
    assert sum(h.technique for h in HUNTS) >= 25


@pytest.mark.parametrize("hunt", HUNTS, ids=[h.name for h in HUNTS])
def test_hunt_runs(outcomes: dict[str, tuple[int, Any]], hunt: Hunt) -> None:
    status, body = outcomes[hunt.name]
    assert status == 200, body  # not a 400 (unsupported), not a 500, not a timeout
    assert list(body) == ["Stats", "Schema", "Results"]
    if hunt.technique:
        assert body["Results"], f"{hunt.name}: the generated data should contain this technique"


def test_every_result_matches_its_schema(outcomes: dict[str, tuple[int, Any]]) -> None:
    for name, (status, body) in outcomes.items():
        if status != 200:
            continue
        names = [c["Name"] for c in body["Schema"]]
        for row in body["Results"][:5]:
            assert list(row) == names, name


def test_run_share(
    outcomes: dict[str, tuple[int, Any]], record_property: Callable[[str, object], None]
) -> None:
    ran = sum(status == 200 for status, _ in outcomes.values())
    found = sum(bool(outcomes[h.name][1].get("Results")) for h in HUNTS if h.technique)
    record_property("run_share", ran / len(outcomes))
    record_property("techniques_found", found)
    assert ran == len(outcomes)
    assert found == sum(h.technique for h in HUNTS)
