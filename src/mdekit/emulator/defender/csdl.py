"""``/api/$metadata``: the OData CSDL (Edmx XML) document, generated from the entity data model.

The same definitions (:mod:`mdekit.emulator.defender.edm`) check ``$select`` and describe every
answer, so the document and the answers cannot drift apart (tests/fidelity checks the answers
against them). One ``Schema`` per namespace; the entity container lives in the main one. Which
enumerations the real document declares as ``EnumType`` is UNVERIFIED: they are ``Edm.String`` here.
"""

from __future__ import annotations

from functools import cache
from xml.etree import ElementTree as ET

from mdekit.emulator.defender.edm import (
    COMPLEX_TYPES,
    ENTITY_SETS,
    ENTITY_TYPES,
    NAMESPACE,
    StructuredType,
)

__all__ = ["METADATA_XML", "csdl_document"]

#: The content type OData services give ``$metadata`` (OData 4.0 CSDL XML §3).
METADATA_XML = "application/xml"
_EDMX = "http://docs.oasis-open.org/odata/ns/edmx"
_EDM = "http://docs.oasis-open.org/odata/ns/edm"


def _structured(parent: ET.Element, kind: str, t: StructuredType) -> None:
    element = ET.SubElement(parent, kind, Name=t.name)
    if t.key is not None:
        key = ET.SubElement(element, "Key")
        ET.SubElement(key, "PropertyRef", Name=t.key)
    for p in t.properties:
        attrs = {"Name": p.name, "Type": p.type}
        if not p.nullable:
            attrs["Nullable"] = "false"
        ET.SubElement(element, "Property", attrs)


@cache
def csdl_document() -> bytes:
    """The whole ``$metadata`` document (built once: the model is fixed)."""
    ET.register_namespace("edmx", _EDMX)
    root = ET.Element(f"{{{_EDMX}}}Edmx", Version="4.0")
    services = ET.SubElement(root, f"{{{_EDMX}}}DataServices")
    namespaces = sorted({t.namespace for t in (*ENTITY_TYPES.values(), *COMPLEX_TYPES.values())})
    for ns in namespaces:
        schema = ET.SubElement(services, "Schema", xmlns=_EDM, Namespace=ns)
        for t in ENTITY_TYPES.values():
            if t.namespace == ns:
                _structured(schema, "EntityType", t)
        for t in COMPLEX_TYPES.values():
            if t.namespace == ns:
                _structured(schema, "ComplexType", t)
        if ns == NAMESPACE:
            container = ET.SubElement(schema, "EntityContainer", Name="Container")
            for s in ENTITY_SETS:
                ET.SubElement(container, "EntitySet", Name=s.name, EntityType=s.type)
    body: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return body
