"""Wait until the new app's tokens carry what was granted (Entra takes a few seconds to propagate).

Grants show in tokens issued after them (service-facts §5.4); setup scripts wait a few seconds
after creating apps and grants because "the grants are not immediately available"
(service-facts-2 §4.1). This polls the token endpoint with the app's own credential - the one
token client - until every granted role is in the token, or gives up and says so.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from typing import Any

from mdekit.errors import AuthenticationError
from mdekit.provisioning.permissions import Wanted

__all__ = ["missing_roles", "token_roles", "wait_for_roles"]


def token_roles(prof: Any, resource_uri: str) -> set[str]:
    """The roles in a new app-only token of *prof* for *resource_uri* (``AuthenticationError`` if none)."""
    from mdekit import profiles
    from mdekit.auth.credentials import request_token
    from mdekit.auth.inspect import decode

    settings = profiles.client_settings(prof)
    secret = profiles.read_secret(prof)
    token = request_token(
        prof.tenant,
        prof.client_id,
        secret,
        certificate=prof.certificate_path if prof.credential == "certificate" else None,
        scope=f"{resource_uri}/.default",
        authority=settings["authority"],
        verify=settings["verify"],
    )
    return {str(r) for r in decode(token.access_token)[1].get("roles", [])}


def missing_roles(prof: Any, wanted: Iterable[Wanted]) -> list[Wanted]:
    """The granted permissions the app's next token does not carry yet."""
    wanted = list(wanted)
    missing: list[Wanted] = []
    for resource in sorted({w.resource_name for w in wanted}):
        items = [w for w in wanted if w.resource_name == resource]
        roles = token_roles(prof, items[0].resource.identifier_uris[0])
        missing += [w for w in items if w.role not in roles]
    return missing


def wait_for_roles(
    prof: Any,
    wanted: Iterable[Wanted],
    *,
    timeout: float = 120.0,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> list[Wanted]:
    """Poll until the app's tokens carry every permission in *wanted*; returns what is still missing."""
    wanted = list(wanted)
    deadline, pause = clock() + timeout, 2.0
    while True:
        try:
            missing = missing_roles(prof, wanted)
        except AuthenticationError as exc:
            # a brand-new credential or service principal may not be known everywhere yet
            if clock() + pause > deadline:
                raise exc from None
            missing = wanted
        if not missing or clock() + pause > deadline:
            return missing
        sleep(pause)
        pause = min(pause * 2, 15.0)
