"""``$select``: which properties an answer keeps, always in the entity's own key order.

The context URL lists them as the request named them (``#Alerts(status,title,severity)``), while
the items hold them in the entity's order: both as a real answer shows (anchor A13, check_msdefender's
``$select=status,title,...,severity`` answered ``#Alerts(status,title,...,severity)`` with items
starting ``severity, status, title``).

The names are checked against the entity data model (:mod:`mdekit.emulator.defender.edm`); an
unknown one is a 400 ``ODataError`` naming it, worded as the service's OData library words it
("Could not find a property named 'x' on type 'microsoft.windowsDefenderATP.api.Machine'.").
Names match case-insensitively and come back in the model's spelling. Paths into complex
properties (``ipAddresses/ipAddress``) are not supported and say so.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mdekit.emulator.defender.edm import StructuredType
from mdekit.emulator.defender.odata import ODataError

__all__ = ["asked_order", "parse_select", "project", "select_fragment"]


def parse_select(text: str, entity: StructuredType | None, set_name: str) -> tuple[str, ...] | None:
    """The selected property names (model order) for ``$select=`` *text*; ``None`` selects all."""
    names = [n.strip() for n in text.split(",")]
    if not any(names):
        raise ODataError("The $select query option is empty")
    if "*" in names:
        return None
    if entity is None:
        raise ODataError(f"$select is not supported on {set_name}")
    chosen: set[str] = set()
    for name in names:
        if not name:
            raise ODataError(f"Syntax error in $select '{text}': an empty property name")
        if "/" in name:
            raise ODataError(f"$select of a nested property ('{name}') is not supported")
        found = entity.find(name)
        if found is None:
            raise ODataError(f"Could not find a property named '{name}' on type '{entity.qualified}'.")
        chosen.add(found.name)
    return tuple(n for n in entity.names() if n in chosen)


def project(item: Mapping[str, Any], names: tuple[str, ...] | None) -> Any:
    """*item* with only *names*, in *item*'s order (all of it when *names* is ``None``)."""
    if names is None:
        return item
    wanted = set(names)
    return {k: v for k, v in item.items() if k in wanted}


def asked_order(text: str | None, names: tuple[str, ...] | None) -> tuple[str, ...] | None:
    """*names* (a parsed ``$select``, model order and spelling) in the order ``$select=`` *text* asked."""
    if names is None or not text:
        return names
    spelled = {n.lower(): n for n in names}
    asked = (spelled.get(part.strip().lower()) for part in text.split(","))
    return tuple(dict.fromkeys(n for n in asked if n))


def select_fragment(fragment: str, names: tuple[str, ...] | None, asked: str | None = None) -> str:
    """The context fragment for a projection: ``Machines`` -> ``Machines(computerDnsName,id)``, the
    properties in the order the request's ``$select`` (*asked*) named them (OData 4.0 §10.9; the
    real answer in this module's docstring).
    """
    names = asked_order(asked, names)
    if names is None:
        return fragment
    base, entity_suffix = (
        (fragment[: -len("/$entity")], "/$entity")
        if fragment.endswith("/$entity")
        else (
            fragment,
            "",
        )
    )
    return f"{base}({','.join(names)}){entity_suffix}"
