"""Helpers shared by the TVM route modules: the tenant's view, computed lists, machine references."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import Request

from mdekit.emulator.defender.auth import Caller
from mdekit.emulator.defender.listing import PAGE_SIZE
from mdekit.emulator.defender.odata import Field
from mdekit.emulator.defender.routes.common import collection_answer, store
from mdekit.emulator.defender.routes.machines import load_machine
from mdekit.emulator.defender.tvm.entities import OrgView
from mdekit.emulator.defender.tvm.store import Install, TvmStore
from mdekit.emulator.defender.wire import object_answer

__all__ = [
    "PUBLIC_VULNERABILITIES",
    "computed_list",
    "load_machine",
    "machine_view",
    "object_answer",
    "org",
    "references",
    "tvm",
]

#: ``@odata.context`` of the vulnerability lists under machines, software and recommendations.
PUBLIC_VULNERABILITIES = "Collection(Analytics.Contracts.PublicAPI.PublicVulnerabilityDto)"


def tvm(request: Request) -> TvmStore:
    """The TVM store of the app serving *request*."""
    return store(request).tvm


def org(request: Request, caller: Caller) -> OrgView:
    """The caller's tenant, read once for this answer."""
    return OrgView(tvm(request), caller.tenant_id)


def computed_list(
    request: Request,
    set_name: str,
    fields: dict[str, Field],
    items: Sequence[Mapping[str, Any]],
    *,
    max_top: int = PAGE_SIZE,
) -> Any:
    """A computed list answered with ``$filter``/``$top``/``$skip`` as every stored list is."""
    return collection_answer(request, set_name, items, fields, max_top=max_top)


def machine_view(request: Request, caller: Caller, key: str) -> tuple[OrgView, str, list[Install]]:
    """For a per-machine answer: the tenant's view, the machine's id (*key*: id or name), its installs."""
    machine_id = load_machine(request, caller, key)["id"]
    return org(request, caller), machine_id, tvm(request).installs_of(caller.tenant_id, machine_id)


def references(request: Request, caller: Caller, machine_ids: Iterable[str]) -> Any:
    """``MachineReferences`` of these machines."""
    return collection_answer(
        request, "MachineReferences", tvm(request).references(caller.tenant_id, machine_ids)
    )
