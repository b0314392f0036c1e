"""Indicators: list, submit (create or update), import, delete, batch delete."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from mdekit.client.base import C, Family, ListCall, endpoint, listing, make_list, values
from mdekit.client.core import Call, make_call
from mdekit.client.odata import Names, and_, eq
from mdekit.models import ImportResult, Indicator

__all__ = ["Indicators", "indicator_body"]

IndicatorLike = Indicator | Mapping[str, Any]


def indicator_body(indicator: IndicatorLike) -> dict[str, Any]:
    """The wire body of an indicator: camelCase, unset fields and read-only ones left out."""
    if isinstance(indicator, Indicator):
        data = indicator.model_dump(by_alias=True, mode="json", exclude_none=True)
    else:
        data = {
            k: v
            for k, v in Indicator.model_validate(dict(indicator))
            .model_dump(by_alias=True, mode="json", exclude_none=True)
            .items()
        }
    for read_only in (
        "id",
        "createdBy",
        "createdByDisplayName",
        "createdBySource",
        "lastUpdatedBy",
        "creationTimeDateTimeUtc",
        "lastUpdateTime",
        "sourceType",
        "source",
    ):
        data.pop(read_only, None)
    return {k: v for k, v in data.items() if v != []}


def _list(
    *,
    indicator_type: str | Sequence[str] | None = None,
    action: str | Sequence[str] | None = None,
    severity: str | Sequence[str] | None = None,
    value: str | None = None,
    title: str | None = None,
    filter: str | None = None,
    select: Names | None = None,
    order_by: Names | None = None,
    page_size: int | None = None,
    limit: int | None = None,
) -> ListCall[Indicator]:
    """List indicators (an app with only ``Ti.ReadWrite`` sees the ones it created)."""
    flt = and_(
        [
            eq("indicatorType", indicator_type),
            eq("action", action),
            eq("severity", severity),
            eq("indicatorValue", value),
            eq("title", title),
            f"({filter})" if filter else None,
        ]
    )
    return make_list(
        "indicators.list",
        Indicator,
        {"$filter": flt},
        page_size=page_size,
        limit=limit,
        select=select,
        order_by=order_by,
    )


def _submit(indicator: IndicatorLike) -> Call[Indicator]:
    """Create an indicator, or update the one with the same value and type.

    Accepts an :class:`Indicator` or a mapping (snake_case or camelCase keys); required:
    value, type, action, title, description.
    """
    return make_call("indicators.submit", Indicator.model_validate, body=indicator_body(indicator))


def _import(indicators: Sequence[IndicatorLike]) -> Call[list[ImportResult]]:
    """Submit up to 500 indicators in one call; each row of the answer says whether it failed."""
    body = {"Indicators": [indicator_body(i) for i in indicators]}
    return make_call("indicators.import", values(ImportResult), body=body)


def _delete(indicator_id: str | int) -> Call[None]:
    """Delete one indicator."""
    return make_call("indicators.delete", lambda _: None, id=str(indicator_id))


def _batch_delete(indicator_ids: Sequence[str | int]) -> Call[None]:
    """Delete up to 500 indicators in one call."""
    return make_call(
        "indicators.batch_delete", lambda _: None, body={"IndicatorIds": [str(i) for i in indicator_ids]}
    )


class Indicators(Family[C]):
    """``client.indicators``."""

    list = listing(_list)
    submit = endpoint(_submit)
    import_ = endpoint(_import)
    delete = endpoint(_delete)
    batch_delete = endpoint(_batch_delete)
