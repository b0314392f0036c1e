"""The catalogue and the emulator's routes describe the same API: nothing served that the
catalogue does not know, nothing in the catalogue that no route serves (but the list below).

Both sides come from the code: the routes from the FastAPI app itself, the operations from
``mdekit.catalog``; they are matched with ``catalog.find_operation``, as requests are.
"""

from __future__ import annotations

import re
from collections import Counter

from defender_helpers import api_routes, require_name

from mdekit.catalog import OPERATIONS, find_operation

#: Catalogue operations no route serves yet. The list can only shrink: an entry that a route
#: serves fails test_not_served_list_is_accurate (delete it when its route lands).
NOT_SERVED_YET: set[str] = set()


def _shape(path: str) -> str:
    """A path template with its parameter names erased: ``/api/alerts/{}``."""
    return re.sub(r"\{[^}]*\}", "{}", path)


def _served() -> dict[str, list[str]]:
    """Catalogue operation name -> the routes (``METHOD path``) that serve it."""
    served: dict[str, list[str]] = {}
    for route in api_routes():
        found = find_operation(route.method, route.path)
        if found is not None:
            served.setdefault(found[0].name, []).append(f"{route.method} {route.path}")
    return served


def test_the_app_has_service_routes() -> None:
    # guards the route discovery itself: an empty walk would make every other check vacuous
    methods = Counter(r.method for r in api_routes())
    assert len(api_routes()) >= 50 and {"GET", "POST", "PATCH", "DELETE"} <= set(methods)


def test_every_service_route_is_a_catalogue_operation() -> None:
    unknown, misplaced, wrong_role = [], [], []
    for route in api_routes():
        found = find_operation(route.method, route.path)
        if found is None:
            unknown.append(f"{route.method} {route.path}")
            continue
        op = found[0]
        if _shape(route.path) != _shape(op.path):
            misplaced.append(f"{route.method} {route.path} matched {op.name} ({op.path})")
        if route.required is not None and route.required != require_name(op.name):
            wrong_role.append(f"{route.method} {route.path} enforces {route.required}, not {op.name}")
    assert not unknown, f"routes missing from mdekit.catalog.OPERATIONS: {unknown}"
    assert not misplaced, misplaced
    assert not wrong_role, wrong_role


def test_every_catalogue_operation_is_served_once() -> None:
    served = _served()
    missing = sorted(set(OPERATIONS) - set(served) - NOT_SERVED_YET)
    assert not missing, f"no route serves {missing}: add the route, or list them in NOT_SERVED_YET"
    twice = {name: routes for name, routes in served.items() if len(routes) > 1}
    assert not twice, twice


def test_not_served_list_is_accurate() -> None:
    unknown = sorted(NOT_SERVED_YET - set(OPERATIONS))
    assert not unknown, f"not catalogue operations: {unknown}"
    now_served = sorted(NOT_SERVED_YET & set(_served()))
    assert not now_served, f"served now: remove {now_served} from NOT_SERVED_YET"
