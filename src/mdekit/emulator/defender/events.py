"""Whether an event advanced hunting shows exists: what ``CreateAlertByReference`` refers to.

The create-alert-by-reference page: the event is identified by (``reportId``, ``eventTime``,
``machineId``) "as obtained from advanced hunting", and an unknown one is 404. The emulator looks
in the tenant's hunting tables (every table with ``ReportId``, ``DeviceId`` and ``Timestamp``),
through the hunting store's own per-query connection; the tables a query already built are searched
first. ``eventTime`` matches within a second either way: how exactly the service compares it is
UNVERIFIED, and a client that rounded the hunting timestamp should still find its event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from mdekit.emulator.clock import parse_time

if TYPE_CHECKING:
    from mdekit.emulator.state import EmulatorState

__all__ = ["event_exists"]

_SECOND_US = 1_000_000


def event_exists(
    state: EmulatorState, tenant: str, machine_id: str, report_id: object, event_time: str
) -> bool:
    """Whether *tenant*'s hunting data has the event (*report_id* on *machine_id* at *event_time*)."""
    text = str(report_id).strip()
    if not text.lstrip("-").isdigit() or len(text) > 19:  # ReportId is a long: nothing else can match
        return False
    when = parse_time(event_time)
    at_us = (int(when.timestamp()) * _SECOND_US) + when.microsecond
    from mdekit.emulator.hunting.tables import TABLES

    names = [t for t, cols in TABLES.items() if {"ReportId", "DeviceId", "Timestamp"} <= {c for c, _ in cols}]
    data = state.hunting.tenant(tenant)
    names.sort(key=lambda t: t not in data.built)  # tables already built first: no building needed
    cursor = data.cursor()
    try:
        for table in names:
            data.ensure({table}, state, cursor)
            found = cursor.execute(
                f'SELECT 1 FROM "{table}" WHERE "ReportId" = ? AND lower("DeviceId") = lower(?) '
                'AND "Timestamp" BETWEEN ? AND ? LIMIT 1',
                [int(text), machine_id, at_us - _SECOND_US, at_us + _SECOND_US],
            ).fetchone()
            if found is not None:
                return True
    finally:
        data.release(cursor)
    return False
