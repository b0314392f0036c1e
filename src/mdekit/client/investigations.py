"""Automated investigations: list, get, start."""

from __future__ import annotations

from collections.abc import Sequence

from mdekit.client.base import C, Family, ListCall, endpoint, listing, make_list
from mdekit.client.core import Call, make_call
from mdekit.client.odata import Names, TimeLike, and_, eq, ge
from mdekit.models import Investigation

__all__ = ["Investigations"]


def _list(
    *,
    state: str | Sequence[str] | None = None,
    machine_id: str | None = None,
    triggering_alert_id: str | None = None,
    since: TimeLike | None = None,
    filter: str | None = None,
    select: Names | None = None,
    order_by: Names | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> ListCall[Investigation]:
    """List automated investigations."""
    flt = and_(
        [
            eq("state", state),
            eq("machineId", machine_id),
            eq("triggeringAlertId", triggering_alert_id),
            ge("startTime", since),
            f"({filter})" if filter else None,
        ]
    )
    return make_list(
        "investigations.list",
        Investigation,
        {"$filter": flt},
        page_size=page_size,
        limit=limit,
        select=select,
        order_by=order_by,
    )


def _get(investigation_id: str) -> Call[Investigation]:
    """One investigation by its id or its triggering alert's id."""
    return make_call("investigations.get", Investigation.model_validate, id=investigation_id)


def _start(machine_id: str, comment: str) -> Call[Investigation]:
    """Start an automated investigation on a machine (50 calls/hour)."""
    return make_call(
        "investigations.start", Investigation.model_validate, body={"Comment": comment}, id=machine_id
    )


class Investigations(Family[C]):
    """``client.investigations``."""

    list = listing(_list)
    get = endpoint(_get)
    start = endpoint(_start)
