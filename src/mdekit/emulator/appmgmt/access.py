"""Who may change what in the directory, and the directory's error answers.

A token first needs the operation's permission (``require_graph`` with the directory's 403); a
signed-in user then also needs a directory role for what the call touches, as Entra checks both:

* registering an app: any member user (a new tenant lets users register applications);
* changing or deleting an app, its credentials, creating its service principal: its owners, or an
  Application / Cloud Application / Global Administrator;
* granting or revoking an app role: the roles of :data:`mdekit.catalog.RESOURCE_ADMIN_ROLES` for
  the resource (Microsoft Graph's app roles: Global or Privileged Role Administrator only).

App-only callers holding the operation's application permission may do all of it. Errors use the
directory's codes (service-facts-2 §4.6): ``Authorization_RequestDenied`` 403,
``Request_ResourceNotFound`` 404, ``Request_BadRequest`` 400,
``Request_MultipleObjectsWithSameKeyValue`` 409.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import Depends, Path, Request

from mdekit.catalog import APP_ADMIN_ROLES, RESOURCE_ADMIN_ROLES, ResourceApp
from mdekit.emulator.defender.auth import Caller
from mdekit.emulator.entra.directory import AppInfo, DirectoryStore, TenantInfo, is_guid
from mdekit.emulator.entra.users import UserInfo
from mdekit.emulator.graph import (
    GraphError,
    GraphResponse,
    context_url,
    directory_forbidden,
    read_json,
    require_graph,
)

__all__ = [
    "APP_ID",
    "ASSIGNMENT_ID",
    "OBJECT_ID",
    "Actor",
    "bad",
    "denied",
    "entity_answer",
    "guid",
    "missing",
    "request_json",
    "require_op",
]

_GUID = "^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$"
# Patterns describe the ids (the fuzzers read them); the handlers check them with the directory's
# own 400, which FastAPI's validation would not word as Graph does.
OBJECT_ID = Path(description="Object id (GUID)", json_schema_extra={"pattern": _GUID})
APP_ID = Path(description="Application (client) id (GUID)", json_schema_extra={"pattern": _GUID})
ASSIGNMENT_ID = Path(
    description="App role assignment id", json_schema_extra={"pattern": "^[A-Za-z0-9_-]{43}$"}
)


def require_op(op: str) -> Any:
    """The route dependency that lets a caller with the Graph permission for ``op`` in."""
    return Depends(require_graph(op, forbidden=directory_forbidden))


def entity_answer(request: Request, fragment: str, item: dict[str, Any], status: int = 200) -> GraphResponse:
    """One directory object with its ``@odata.context`` (``.../$metadata#{fragment}/$entity``)."""
    return GraphResponse({"@odata.context": context_url(request, f"{fragment}/$entity"), **item}, status)


def denied() -> GraphError:
    """403 ``Authorization_RequestDenied`` (the directory says nothing about which role is missing)."""
    return GraphError(
        403, "Authorization_RequestDenied", "Insufficient privileges to complete the operation."
    )


def missing(object_id: str) -> GraphError:
    """404 ``Request_ResourceNotFound`` with the directory's wording."""
    return GraphError(
        404,
        "Request_ResourceNotFound",
        f"Resource '{object_id}' does not exist or one of its queried reference-property objects "
        "are not present.",
    )


def bad(message: str) -> GraphError:
    """400 ``Request_BadRequest``."""
    return GraphError(400, "Request_BadRequest", message)


def guid(text: str) -> str:
    """*text* if it is an object id (GUID); 400 ``Request_BadRequest`` otherwise."""
    if not is_guid(text):
        raise bad(f"Invalid object identifier '{text[:100]}'.")
    return text


async def request_json(request: Request) -> dict[str, Any]:
    """The body as a JSON object (400 ``BadRequest`` otherwise, as every Graph body)."""
    return await read_json(request)


@dataclass(frozen=True)
class Actor:
    """The caller of a directory operation: the app, and the signed-in user of a delegated token."""

    caller: Caller
    user: UserInfo | None
    tenant: TenantInfo
    directory: DirectoryStore

    @classmethod
    def of(cls, request: Request, caller: Caller) -> Actor:
        """The actor behind *caller*; a delegated token whose user was deleted is refused."""
        d: DirectoryStore = request.app.state.emu.directory
        user = d.user_by_id(caller.user_id) if caller.user_id else None
        if caller.user_id and (user is None or user.tenant_id != caller.tenant_id):
            raise denied()
        return cls(caller, user, d.tenant(caller.tenant_id), d)

    def may_manage(self, app: AppInfo) -> bool:
        """Owners and app administrators manage a registration; app-only callers too."""
        if self.user is None:
            return True
        return self.user.has_role(*APP_ADMIN_ROLES) or self.directory.is_owner(
            app.app_id, self.user.object_id
        )

    def require_manage(self, app: AppInfo) -> None:
        """403 unless :meth:`may_manage`."""
        if not self.may_manage(app):
            raise denied()

    def require_app_admin(self) -> None:
        """403 unless app-only or an application administrator (acting on apps one does not own)."""
        if self.user is not None and not self.user.has_role(*APP_ADMIN_ROLES):
            raise denied()

    def require_grant_admin(self, resource: ResourceApp) -> None:
        """403 unless the user may grant *resource*'s app roles (app-only callers may)."""
        if self.user is not None and not self.user.has_role(*RESOURCE_ADMIN_ROLES.get(resource.app_id, ())):
            raise denied()

    def application(self, key: str, *, by_app_id: bool = False) -> AppInfo:
        """An app registered in the caller's tenant, by object id or app id; 404 otherwise."""
        d = self.directory
        guid(key)
        if by_app_id:
            app = d.find_application(key)
        else:
            row = d.db.query_one("SELECT app_id FROM dir_apps WHERE object_id = ?", (key.lower(),))
            app = d.find_application(row["app_id"]) if row else None
        if app is None or app.home_tenant != self.tenant.id:
            raise missing(key)
        return app
