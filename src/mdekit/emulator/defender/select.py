"""``$select``: which properties an answer keeps, always in the entity's own key order.

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

__all__ = ["parse_select", "project", "select_fragment"]


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


def project(item: Mapping[str, Any], names: tuple[str, ...] | None, keep: tuple[str, ...] = ()) -> Any:
    """*item* with only *names* (and *keep*: expanded navigation properties), in *item*'s order."""
    if names is None:
        return item
    wanted = set(names) | set(keep)
    return {k: v for k, v in item.items() if k in wanted}


def select_fragment(fragment: str, names: tuple[str, ...] | None) -> str:
    """The context fragment for a projection: ``Machines`` -> ``Machines(id,computerDnsName)``.

    OData 4.0 §10.9 puts the select list in the context URL; that the service does too is UNVERIFIED.
    """
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
