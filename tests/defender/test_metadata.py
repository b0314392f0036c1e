"""``/api/$metadata``: a CSDL document that describes exactly what the lists answer."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree as ET

import pytest
from defender_helpers import Api
from fastapi.testclient import TestClient

EDMX = "{http://docs.oasis-open.org/odata/ns/edmx}"
EDM = "{http://docs.oasis-open.org/odata/ns/edm}"
#: Entity set -> a list that serves it (the sets whose items have a list of their own).
LISTS = {
    "Alerts": "/api/alerts",
    "Machines": "/api/machines",
    "MachineActions": "/api/machineactions",
    "Indicators": "/api/indicators",
    "Investigations": "/api/investigations",
    "Vulnerabilities": "/api/vulnerabilities",
    "Software": "/api/Software",
    "Recommendations": "/api/recommendations",
    "RemediationTasks": "/api/remediationTasks",
    "DeviceAvInfo": "/api/deviceavinfo",
}


def _document(api: Api) -> ET.Element:
    r = api.get("/api/$metadata")
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("application/xml")
    assert r.headers["odata-version"] == "4.0"
    return ET.fromstring(r.content)


def _types(root: ET.Element) -> dict[str, list[tuple[str, str]]]:
    """Every entity and complex type, qualified name -> [(property, type)] in document order."""
    found: dict[str, list[tuple[str, str]]] = {}
    for schema in root.iter(f"{EDM}Schema"):
        for kind in ("EntityType", "ComplexType"):
            for t in schema.iter(f"{EDM}{kind}"):
                props = [(p.get("Name", ""), p.get("Type", "")) for p in t.iter(f"{EDM}Property")]
                found[f"{schema.get('Namespace')}.{t.get('Name')}"] = props
    return found


def test_metadata_is_an_edmx_document_with_the_entity_sets(api: Api) -> None:
    root = _document(api)
    assert root.tag == f"{EDMX}Edmx" and root.get("Version") == "4.0"
    sets = {s.get("Name"): s.get("EntityType") for s in root.iter(f"{EDM}EntitySet")}
    assert set(LISTS) <= set(sets)
    types = _types(root)
    assert all(sets[name] in types for name in sets), "every set names a declared type"
    machine = dict(types["microsoft.windowsDefenderATP.api.Machine"])
    assert machine["lastSeen"] == "Edm.DateTimeOffset" and machine["machineTags"] == "Collection(Edm.String)"
    keys = [k.get("Name") for k in root.iter(f"{EDM}PropertyRef")]
    assert "id" in keys


@pytest.mark.parametrize("set_name", sorted(LISTS))
def test_each_list_answers_the_properties_metadata_declares(api: Api, set_name: str, seeded: str) -> None:
    """The answer's keys are the type's properties, in the document's order."""
    root = _document(api)
    sets = {s.get("Name"): s.get("EntityType") for s in root.iter(f"{EDM}EntitySet")}
    declared = [name for name, _ in _types(root)[str(sets[set_name])]]
    if set_name == "MachineActions":
        machine = api.get("/api/machines?$top=1").json()["value"][0]
        api.post(f"/api/machines/{machine['id']}/runAntiVirusScan", {"Comment": "metadata"})
    if set_name == "Indicators":
        body = {"indicatorValue": "metadata.example", "indicatorType": "DomainName", "action": "Alert"}
        api.post("/api/indicators", {**body, "title": "t", "description": "d"})
    items: list[dict[str, Any]] = api.get(f"{LISTS[set_name]}?$top=5").json()["value"]
    assert items, set_name
    for item in items:
        assert list(item) == declared, set_name


def test_metadata_needs_a_token(client: TestClient, seeded: str) -> None:
    r = client.get("/api/$metadata")
    assert r.status_code == 401 and r.json()["error"]["code"] == "Unauthorized"
