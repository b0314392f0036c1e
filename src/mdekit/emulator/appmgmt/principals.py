"""Graph ``/v1.0/servicePrincipals`` and admin consent through ``appRoleAssignedTo``.

* ``POST /servicePrincipals {"appId"}``: 201; an app of this tenant, or a multi-tenant app of
  another one (that is how an app is added to a customer's tenant); 409
  ``Request_MultipleObjectsWithSameKeyValue`` when it has one already (captured wording).
* ``GET /servicePrincipals?$filter=appId eq '...'``, ``GET /servicePrincipals/{id}`` and
  ``(appId='...')``: the built-in resources carry their ``appRoles`` with the real GUIDs.
* ``POST /servicePrincipals/{resource id}/appRoleAssignedTo {"principalId", "resourceId",
  "appRoleId"}``: grants one application permission (201); a grant that exists is 400
  ``Request_BadRequest`` "Permission being assigned already exists on the object". The grant is
  the row the token service reads: the next token carries the role.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mdekit.emulator.appmgmt.access import (
    APP_ID,
    ASSIGNMENT_ID,
    OBJECT_ID,
    Actor,
    bad,
    entity_answer,
    guid,
    missing,
    request_json,
    require_op,
)
from mdekit.emulator.appmgmt.applications import _by_app_id
from mdekit.emulator.appmgmt.views import RESOURCE_APPS, assignment_json, service_principal_json
from mdekit.emulator.defender.auth import Caller
from mdekit.emulator.defender.odata import Field
from mdekit.emulator.entra.appobjects import ServicePrincipal, assignment_id
from mdekit.emulator.entra.directory import DirectoryError, is_guid
from mdekit.emulator.graph import (
    GRAPH_ERRORS,
    Collection,
    GraphError,
    GraphResponse,
    GraphRoute,
    collection_answer,
    context_url,
    list_options,
    parse_query,
)

__all__ = ["SERVICE_PRINCIPALS", "router"]

router = APIRouter(
    route_class=GraphRoute, tags=["Service principals (Microsoft Graph)"], responses=GRAPH_ERRORS
)

SERVICE_PRINCIPALS = Collection(
    name="servicePrincipals",
    type_name="microsoft.graph.servicePrincipal",
    fields={
        "id": Field("(object_id COLLATE NOCASE)"),
        "appId": Field("(app_id COLLATE NOCASE)"),
        "displayName": Field("display_name"),
    },
    order={"displayName": "display_name"},
    default_order="n ASC",
    tiebreak="object_id ASC",
    max_top=999,
    page_size=100,
)
_CONFLICT: dict[int | str, dict[str, Any]] = {
    409: {"description": "Request_MultipleObjectsWithSameKeyValue: the app has one already"}
}


def _schema(properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    body = {"type": "object", "properties": properties, "required": required, "additionalProperties": False}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": body}}}}


_SP_SCHEMA = _schema({"appId": {"type": "string"}}, ["appId"])
_GRANT_SCHEMA = _schema(
    {"principalId": {"type": "string"}, "resourceId": {"type": "string"}, "appRoleId": {"type": "string"}},
    ["principalId", "resourceId", "appRoleId"],
)


def _sp(actor: Actor, key: str, *, by_app_id: bool = False) -> ServicePrincipal:
    d = actor.directory
    guid(key)
    found = d.service_principal(actor.tenant.id, app_id=key) if by_app_id else None
    if not by_app_id:
        found = d.service_principal(actor.tenant.id, object_id=key)
    if found is None:
        raise missing(key)
    return found


@router.post(
    "/v1.0/servicePrincipals",
    status_code=201,
    operation_id="graph_sps_create",
    summary="Create service principal",
    openapi_extra=_SP_SCHEMA,
    responses=_CONFLICT,
)
async def create_service_principal(request: Request, caller: Caller = require_op("graph_sps.create")) -> Any:
    actor = Actor.of(request, caller)
    body = await request_json(request)
    app_id = body.get("appId")
    if set(body) - {"appId", "@odata.type"} or not isinstance(app_id, str) or not is_guid(app_id):
        raise bad("The request body must hold 'appId', the application (client) id.")
    d = actor.directory
    if d.service_principal(actor.tenant.id, app_id=app_id) is not None:
        raise GraphError(
            409,
            "Request_MultipleObjectsWithSameKeyValue",
            "The service principal cannot be created, updated, or restored because the service principal "
            f"name {app_id.lower()} is already in use.",
        )
    app = d.find_application(app_id)
    if app is None or (app.home_tenant != actor.tenant.id and not app.multi_tenant):
        raise bad(
            f"The appId '{app_id}' of the service principal does not reference a valid application object."
        )
    if app.home_tenant == actor.tenant.id:
        actor.require_manage(app)
    else:
        actor.require_app_admin()  # adding another organization's app to this tenant
    d.create_service_principal(actor.tenant.id, app.app_id)
    created = _sp(actor, app.app_id, by_app_id=True)
    return entity_answer(request, "servicePrincipals", service_principal_json(d, created), 201)


@router.get(
    "/v1.0/servicePrincipals",
    operation_id="graph_sps_list",
    summary="List service principals",
    dependencies=[Depends(list_options)],
)
def list_service_principals(request: Request, caller: Caller = require_op("graph_sps.list")) -> Any:
    actor = Actor.of(request, caller)
    q = parse_query(request.query_params, SERVICE_PRINCIPALS)
    every = actor.directory.service_principals(actor.tenant.id)
    # The built-in principals live in no table: filter every principal of the tenant in SQL.
    values = ", ".join("(?, ?, ?, ?)" for _ in every)
    rows_sql = [v for i, sp in enumerate(every) for v in (i, sp.object_id, sp.app_id, sp.display_name)]
    cte = f"WITH sps(n, object_id, app_id, display_name) AS (VALUES {values})"
    where = f" WHERE {q.where}" if q.where else ""
    rows = actor.directory.db.query(
        f"{cte} SELECT n FROM sps{where} ORDER BY {q.order_sql} LIMIT ? OFFSET ?",
        [*rows_sql, *q.params, q.limit + 1, q.offset],
    )
    found = [every[r["n"]] for r in rows[: q.limit]]
    total = None
    if q.count:
        total = actor.directory.db.query_one(
            f"{cte} SELECT count(*) AS c FROM sps{where}", [*rows_sql, *q.params]
        )
    items = [service_principal_json(actor.directory, sp) for sp in found]
    count = int(total["c"]) if total else None
    return collection_answer(request, "servicePrincipals", items, q, more=len(rows) > q.limit, total=count)


@router.get("/v1.0/servicePrincipals/{id}", operation_id="graph_sps_get", summary="Get service principal")
def get_service_principal(
    request: Request, id: str = OBJECT_ID, caller: Caller = require_op("graph_sps.get")
) -> Any:
    actor = Actor.of(request, caller)
    return entity_answer(
        request, "servicePrincipals", service_principal_json(actor.directory, _sp(actor, id))
    )


@router.get(
    "/v1.0/servicePrincipals(appId='{app_id}')",
    operation_id="graph_sps_get_by_app_id",
    summary="Get service principal by appId",
)
def get_service_principal_by_app_id(
    request: Request, app_id: str = APP_ID, caller: Caller = require_op("graph_sps.get_by_app_id")
) -> Any:
    actor = Actor.of(request, caller)
    sp = _sp(actor, _by_app_id(app_id), by_app_id=True)
    return entity_answer(request, "servicePrincipals", service_principal_json(actor.directory, sp))


@router.get(
    "/v1.0/servicePrincipals/{id}/appRoleAssignments",
    operation_id="graph_sps_role_assignments",
    summary="App roles granted to a service principal",
)
def role_assignments(
    request: Request, id: str = OBJECT_ID, caller: Caller = require_op("graph_sps.role_assignments")
) -> Any:
    actor = Actor.of(request, caller)
    sp = _sp(actor, id)
    grants = actor.directory.role_grants(actor.tenant.id, app_id=sp.app_id)
    items = [assignment_json(actor.directory, g, sp) for g in grants]
    fragment = f"servicePrincipals('{sp.object_id}')/appRoleAssignments"
    return GraphResponse({"@odata.context": context_url(request, fragment), "value": items})


def _principals(actor: Actor) -> dict[str, ServicePrincipal]:
    """The tenant's service principals by app id."""
    return {sp.app_id: sp for sp in actor.directory.service_principals(actor.tenant.id)}


@router.get(
    "/v1.0/servicePrincipals/{id}/appRoleAssignedTo",
    operation_id="graph_grants_list",
    summary="Grants of a resource's app roles",
)
def list_grants(
    request: Request, id: str = OBJECT_ID, caller: Caller = require_op("graph_grants.list")
) -> Any:
    actor = Actor.of(request, caller)
    sp = _sp(actor, id)
    grants = actor.directory.role_grants(actor.tenant.id, resource_app_id=sp.app_id)
    principals = _principals(actor)
    items = [
        assignment_json(actor.directory, g, principals[g.app_id]) for g in grants if g.app_id in principals
    ]
    fragment = f"servicePrincipals('{sp.object_id}')/appRoleAssignedTo"
    return GraphResponse({"@odata.context": context_url(request, fragment), "value": items})


async def _grant(request: Request, actor: Actor, resource_sp: ServicePrincipal) -> GraphResponse:
    body = await request_json(request)
    fields = {k: body.get(k) for k in ("principalId", "resourceId", "appRoleId")}
    extra = set(body) - {*fields, "@odata.type"}
    if extra or not all(isinstance(v, str) and is_guid(v) for v in fields.values()):
        raise bad("The request body must hold principalId, resourceId and appRoleId (GUIDs), nothing else.")
    if str(fields["resourceId"]).lower() != resource_sp.object_id:
        raise bad("resourceId must be the id of the service principal in the request URL.")
    d = actor.directory
    principal = d.service_principal(actor.tenant.id, object_id=str(fields["principalId"]))
    if principal is None:
        raise missing(str(fields["principalId"]))
    resource = RESOURCE_APPS.get(resource_sp.app_id)
    role = resource.role_named(str(fields["appRoleId"])) if resource else None
    if resource is None or role is None:
        raise bad("Permission being assigned was not found on application.")
    actor.require_grant_admin(resource)
    try:
        grant = d.grant_role(actor.tenant.id, principal.app_id, resource, role)
    except DirectoryError as exc:  # granted already ([FS:66030891287]: 400 with this message)
        raise bad(str(exc)) from None
    fragment = f"servicePrincipals('{resource_sp.object_id}')/appRoleAssignedTo"
    return entity_answer(request, fragment, assignment_json(d, grant, principal), 201)


@router.post(
    "/v1.0/servicePrincipals/{id}/appRoleAssignedTo",
    status_code=201,
    operation_id="graph_grants_create",
    summary="Grant an application permission",
    openapi_extra=_GRANT_SCHEMA,
)
async def create_grant(
    request: Request, id: str = OBJECT_ID, caller: Caller = require_op("graph_grants.create")
) -> Any:
    actor = Actor.of(request, caller)
    return await _grant(request, actor, _sp(actor, id))


@router.post(
    "/v1.0/servicePrincipals(appId='{app_id}')/appRoleAssignedTo",
    status_code=201,
    operation_id="graph_grants_create_by_app_id",
    summary="Grant an application permission (resource by appId)",
    openapi_extra=_GRANT_SCHEMA,
)
async def create_grant_by_app_id(
    request: Request, app_id: str = APP_ID, caller: Caller = require_op("graph_grants.create_by_app_id")
) -> Any:
    actor = Actor.of(request, caller)
    return await _grant(request, actor, _sp(actor, _by_app_id(app_id), by_app_id=True))


@router.delete(
    "/v1.0/servicePrincipals/{id}/appRoleAssignedTo/{assignment_id}",
    status_code=204,
    operation_id="graph_grants_delete",
    summary="Revoke an application permission",
)
def delete_grant(
    request: Request,
    id: str = OBJECT_ID,
    assignment_id: str = ASSIGNMENT_ID,
    caller: Caller = require_op("graph_grants.delete"),
) -> Response:
    actor = Actor.of(request, caller)
    sp = _sp(actor, id)
    resource = RESOURCE_APPS.get(sp.app_id)
    principals = _principals(actor)
    for grant in actor.directory.role_grants(actor.tenant.id, resource_app_id=sp.app_id):
        principal = principals.get(grant.app_id)
        if principal and _assignment_id(principal, grant.resource.app_id, grant.role) == assignment_id:
            assert resource is not None
            actor.require_grant_admin(resource)
            actor.directory.revoke_role(actor.tenant.id, grant.app_id, resource.app_id, grant.role)
            return Response(status_code=204)
    raise missing(assignment_id)


def _assignment_id(principal: ServicePrincipal, resource_app_id: str, role: str) -> str:
    return assignment_id(principal.object_id, resource_app_id, role)
