"""OData on the MDE sub-collections and single-entity navigations, over the real HTTPS socket (issue 12).

What the real service does there is documented by one example only: the machine's alerts take
``$filter`` and have a ``/$count`` segment (exposed-apis-odata-samples). The emulator answers the
same options as on the top-level lists (lenient); on a single entity (``/alerts/{id}/machine``)
``$select`` applies, an unknown ``$`` option or ``$expand`` is a 400 ``ODataError``, and the
collection options change nothing (UNVERIFIED; see :func:`mdekit.emulator.defender.wire.entity`).
"""

from __future__ import annotations

import ssl
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from mdekit.emulator.server import EmulatorServer

pytestmark = pytest.mark.socket

ROLES = ["Alert.Read.All", "Machine.Read.All", "User.Read.All", "Software.Read.All"]


@pytest.fixture
def https(make_app: Callable[..., Any], control: httpx.Client, emu: EmulatorServer) -> Iterator[httpx.Client]:
    app = make_app(permissions=ROLES, display_name="odata sub-collections")
    r = control.post(
        f"/_emulator/tenants/{app['tenantId']}/seed", json={"machines": 12, "alerts": 90, "seed": 4}
    )
    assert r.status_code == 200, r.text
    tls = ssl.create_default_context(cafile=str(emu.ca_cert))
    with httpx.Client(base_url=emu.url, verify=tls, headers=app.headers(), timeout=60) as c:
        yield c


def _ok(r: httpx.Response) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


def _busiest_machine(https: httpx.Client) -> tuple[str, list[dict[str, Any]]]:
    alerts = _ok(https.get("/api/alerts?$top=10000"))["value"]
    by_machine: dict[str, list[dict[str, Any]]] = {}
    for a in alerts:
        by_machine.setdefault(a["machineId"], []).append(a)
    machine = max(by_machine, key=lambda m: len(by_machine[m]))
    assert len(by_machine[machine]) >= 3
    return machine, by_machine[machine]


def test_a_machines_alerts_take_every_list_option(https: httpx.Client) -> None:
    machine, mine = _busiest_machine(https)
    path = f"/api/machines/{machine}/alerts"
    assert {a["id"] for a in _ok(https.get(path))["value"]} == {a["id"] for a in mine}
    top = _ok(https.get(f"{path}?$top=2"))["value"]
    assert len(top) == 2 and {a["machineId"] for a in top} == {machine}
    assert "@odata.nextLink" not in _ok(https.get(f"{path}?$top=2"))
    skipped = _ok(https.get(f"{path}?$skip=1"))["value"]
    assert len(skipped) == len(mine) - 1
    # the docs' own example: a machine's open alerts counted with the /$count segment
    open_ = [a for a in mine if a["status"] != "Resolved"]
    counted = https.get(f"{path}/$count?$filter=status ne 'Resolved'")
    assert counted.status_code == 200 and counted.text == str(len(open_))
    body = _ok(https.get(f"{path}?$count=true&$filter=status ne 'Resolved'&$top=1"))
    assert body["@odata.count"] == len(open_)
    down = _ok(https.get(f"{path}?$orderby=alertCreationTime desc"))["value"]
    times = [a["alertCreationTime"] for a in down]
    assert times == sorted(times, reverse=True)
    picked = _ok(https.get(f"{path}?$select=title,id"))
    assert picked["@odata.context"].endswith("#Alerts(title,id)")
    assert all(list(a) == ["id", "title"] for a in picked["value"])
    expanded = _ok(https.get(f"{path}?$expand=evidence"))["value"]
    assert all("evidence" in a for a in expanded) and any(a["evidence"] for a in expanded)
    bad = https.get(f"{path}?$expand=machine")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "ODataError"


def test_expanded_evidence_is_left_out_when_not_selected(https: httpx.Client) -> None:
    """A real answer (anchor A13): ``$expand=evidence&$select=status,title,...`` has no evidence."""
    items = _ok(https.get("/api/alerts?$expand=evidence&$select=status,title&$top=5"))["value"]
    assert items and all(list(a) == ["status", "title"] for a in items)
    both = _ok(https.get("/api/alerts?$expand=evidence&$select=id,evidence&$top=5"))["value"]
    assert all(list(a) == ["id", "evidence"] for a in both)


def test_machine_software_and_logon_users_take_top_and_select(https: httpx.Client) -> None:
    machine, _ = _busiest_machine(https)
    software = _ok(https.get(f"/api/machines/{machine}/software"))["value"]
    assert software
    one = _ok(https.get(f"/api/machines/{machine}/software?$top=1&$select=name,id"))
    assert one["value"] == [{"id": software[0]["id"], "name": software[0]["name"]}]
    users = _ok(https.get(f"/api/machines/{machine}/logonusers"))["value"]
    counted = _ok(https.get(f"/api/machines/{machine}/logonusers?$count=true&$top=1"))
    assert counted["@odata.count"] == len(users) and len(counted["value"]) == min(1, len(users))


def test_a_single_entity_navigation(https: httpx.Client) -> None:
    machine, mine = _busiest_machine(https)
    path = f"/api/alerts/{mine[0]['id']}/machine"
    whole = _ok(https.get(path))
    assert whole["id"] == machine
    picked = _ok(https.get(f"{path}?$select=computerDnsName,id"))
    assert picked["@odata.context"].endswith("#Machines(computerDnsName,id)/$entity")
    assert list(picked) == ["@odata.context", "id", "computerDnsName"]
    # collection options on one entity: accepted, nothing changes (lenient, UNVERIFIED)
    assert _ok(https.get(f"{path}?$top=1&$orderby=id desc&$count=true")) == whole
    for query, text in (
        ("$expand=evidence", "Invalid $expand 'evidence' on Machines"),
        ("$stop=1", "Custom query option '$stop' that starts with '$' is not supported."),
        ("$select=nope", "Could not find a property named 'nope'"),
    ):
        r = https.get(f"{path}?{query}")
        assert r.status_code == 400 and r.json()["error"]["code"] == "ODataError", query
        assert text in r.json()["error"]["message"]
    # the alert itself expands its evidence; nothing else
    alert = _ok(https.get(f"/api/alerts/{mine[0]['id']}?$expand=evidence"))
    assert "evidence" in alert
    assert https.get(f"/api/alerts/{mine[0]['id']}?$expand=machine").status_code == 400
