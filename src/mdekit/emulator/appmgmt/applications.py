"""Graph ``/v1.0/applications``: register, read, change and delete apps, add and remove secrets.

As application-post-applications, application-get, application-update, application-delete,
application-addpassword and application-removepassword describe them (service-facts-2 §4.1):
POST 201 with the application (no service principal yet: that is ``POST /servicePrincipals``);
PATCH and DELETE 204; addPassword 200 with ``secretText`` (shown only there); removePassword 204.
An app is addressed by its object ``id`` or, alternatively, by ``(appId='{appId}')``.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from mdekit.emulator.appmgmt.access import (
    APP_ID,
    OBJECT_ID,
    Actor,
    bad,
    entity_answer,
    guid,
    request_json,
    require_op,
)
from mdekit.emulator.appmgmt.bodies import APPLICATION_SCHEMA, AppChanges, parse_application, parse_password
from mdekit.emulator.appmgmt.views import application_json, password_json
from mdekit.emulator.defender.auth import Caller
from mdekit.emulator.defender.odata import Field
from mdekit.emulator.entra.directory import AppInfo, DirectoryError
from mdekit.emulator.graph import (
    GRAPH_ERRORS,
    Collection,
    GraphResponse,
    GraphRoute,
    collection_answer,
    context_url,
    list_options,
    parse_query,
)

__all__ = ["APPLICATIONS", "router"]

router = APIRouter(route_class=GraphRoute, tags=["Applications (Microsoft Graph)"], responses=GRAPH_ERRORS)

APPLICATIONS = Collection(
    name="applications",
    type_name="microsoft.graph.application",
    fields={
        "id": Field("(object_id COLLATE NOCASE)"),
        "appId": Field("(app_id COLLATE NOCASE)"),
        "displayName": Field("display_name"),
    },
    order={"displayName": "display_name", "createdDateTime": "created"},
    default_order="created ASC",
    tiebreak="app_id ASC",
    max_top=999,
    page_size=100,
)
_PASSWORD_SCHEMA = {
    "requestBody": {
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"passwordCredential": {"type": "object"}},
                    "additionalProperties": False,
                }
            }
        }
    }
}
_REMOVE_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "properties": {"keyId": {"type": "string"}},
                    "required": ["keyId"],
                    "additionalProperties": False,
                }
            }
        },
    }
}


def _actor(request: Request, caller: Caller) -> Actor:
    return Actor.of(request, caller)


def _apply(actor: Actor, app: AppInfo, changes: AppChanges) -> None:
    """Write *changes* to the registration (the same rows the portal pages and tokens use)."""
    d = actor.directory
    d.update_application(
        app.app_id,
        display_name=changes.display_name,
        multi_tenant=changes.multi_tenant,
        redirect_uris=changes.redirect_uris,
    )
    if changes.roles is not None or changes.scopes is not None:
        current_roles = [(p.resource, p.role) for p in d.requested_permissions(app.app_id)]
        d.set_requested_access(
            app.app_id,
            current_roles if changes.roles is None else changes.roles,
            d.requested_scopes(app.app_id) if changes.scopes is None else changes.scopes,
        )
    if changes.public_client is not None or changes.data:
        d.set_app_props(app.app_id, public_client=changes.public_client, data=changes.data)
    if changes.keys is not None:
        known = {c.key_id for c in d.certificates_of(app.app_id)}
        unknown = [k for k in changes.keys.keep if k not in known]
        if unknown:
            raise bad(f"keyCredential '{unknown[0]}' does not exist on the application.")
        d.remove_certificates(app.app_id, keep=changes.keys.keep)
        for pem, name in changes.keys.add:
            cert = d.add_certificate(actor.tenant.id, app.app_id, pem)
            if name:
                d.set_key_name(cert.key_id, name)


def _app_answer(request: Request, actor: Actor, app: AppInfo, status: int = 200) -> GraphResponse:
    fresh = actor.directory.find_application(app.app_id) or app
    return entity_answer(
        request, "applications", application_json(actor.directory, fresh, actor.tenant), status
    )


@router.post(
    "/v1.0/applications",
    status_code=201,
    operation_id="graph_apps_create",
    summary="Create application",
    openapi_extra=APPLICATION_SCHEMA,
)
async def create_application(request: Request, caller: Caller = require_op("graph_apps.create")) -> Any:
    actor = _actor(request, caller)
    changes = parse_application(await request_json(request), create=True)
    try:
        app = actor.directory.create_application(
            actor.tenant.id,
            changes.display_name or "",
            multi_tenant=bool(changes.multi_tenant),
            redirect_uris=changes.redirect_uris or (),
            public_client=bool(changes.public_client),
            service_principal=False,  # Graph leaves that to POST /servicePrincipals
            owner=actor.user.object_id if actor.user else None,
        )
    except DirectoryError as exc:
        raise bad(str(exc)) from None
    try:
        _apply(actor, app, AppChanges(roles=changes.roles, scopes=changes.scopes, keys=changes.keys,
                                      public_client=changes.public_client, data=changes.data))  # fmt: skip
    except Exception:
        actor.directory.delete_application(actor.tenant.id, app.app_id)  # all or nothing, as one POST
        raise
    return _app_answer(request, actor, app, 201)


@router.get(
    "/v1.0/applications",
    operation_id="graph_apps_list",
    summary="List applications",
    dependencies=[Depends(list_options)],
)
def list_applications(request: Request, caller: Caller = require_op("graph_apps.list")) -> Any:
    actor = _actor(request, caller)
    q = parse_query(request.query_params, APPLICATIONS)
    where = "home_tenant = ?" + (f" AND ({q.where})" if q.where else "")
    params = [actor.tenant.id, *q.params]
    d = actor.directory
    rows = d.db.query(
        f"SELECT app_id FROM dir_apps WHERE {where} ORDER BY {q.order_sql} LIMIT ? OFFSET ?",
        [*params, q.limit + 1, q.offset],
    )
    apps = [a for r in rows[: q.limit] if (a := d.find_application(r["app_id"])) is not None]
    counted = d.db.query_one(f"SELECT count(*) AS n FROM dir_apps WHERE {where}", params) if q.count else None
    total = int(counted["n"]) if counted else None
    items = [application_json(d, a, actor.tenant) for a in apps]
    return collection_answer(request, "applications", items, q, more=len(rows) > q.limit, total=total)


def _by_app_id(app_id: str) -> str:
    return guid(app_id)


@router.get("/v1.0/applications/{id}", operation_id="graph_apps_get", summary="Get application")
def get_application(
    request: Request, id: str = OBJECT_ID, caller: Caller = require_op("graph_apps.get")
) -> Any:
    actor = _actor(request, caller)
    return _app_answer(request, actor, actor.application(id))


@router.get(
    "/v1.0/applications(appId='{app_id}')",
    operation_id="graph_apps_get_by_app_id",
    summary="Get application by appId",
)
def get_application_by_app_id(
    request: Request, app_id: str = APP_ID, caller: Caller = require_op("graph_apps.get_by_app_id")
) -> Any:
    actor = _actor(request, caller)
    return _app_answer(request, actor, actor.application(_by_app_id(app_id), by_app_id=True))


async def _update(request: Request, actor: Actor, app: AppInfo) -> Response:
    actor.require_manage(app)
    changes = parse_application(await request_json(request), create=False)
    _apply(actor, app, changes)
    return Response(status_code=204)


@router.patch(
    "/v1.0/applications/{id}",
    status_code=204,
    operation_id="graph_apps_update",
    summary="Update application",
    openapi_extra=APPLICATION_SCHEMA,
)
async def update_application(
    request: Request, id: str = OBJECT_ID, caller: Caller = require_op("graph_apps.update")
) -> Response:
    actor = _actor(request, caller)
    return await _update(request, actor, actor.application(id))


@router.patch(
    "/v1.0/applications(appId='{app_id}')",
    status_code=204,
    operation_id="graph_apps_update_by_app_id",
    summary="Update application by appId",
    openapi_extra=APPLICATION_SCHEMA,
)
async def update_application_by_app_id(
    request: Request, app_id: str = APP_ID, caller: Caller = require_op("graph_apps.update_by_app_id")
) -> Response:
    actor = _actor(request, caller)
    return await _update(request, actor, actor.application(_by_app_id(app_id), by_app_id=True))


def _delete(actor: Actor, app: AppInfo) -> Response:
    actor.require_manage(app)
    actor.directory.delete_application(actor.tenant.id, app.app_id)
    return Response(status_code=204)


@router.delete(
    "/v1.0/applications/{id}", status_code=204, operation_id="graph_apps_delete", summary="Delete application"
)
def delete_application(
    request: Request, id: str = OBJECT_ID, caller: Caller = require_op("graph_apps.delete")
) -> Response:
    actor = _actor(request, caller)
    return _delete(actor, actor.application(id))


@router.delete(
    "/v1.0/applications(appId='{app_id}')",
    status_code=204,
    operation_id="graph_apps_delete_by_app_id",
    summary="Delete application by appId",
)
def delete_application_by_app_id(
    request: Request, app_id: str = APP_ID, caller: Caller = require_op("graph_apps.delete_by_app_id")
) -> Response:
    actor = _actor(request, caller)
    return _delete(actor, actor.application(_by_app_id(app_id), by_app_id=True))


async def _add_password(request: Request, actor: Actor, app: AppInfo) -> GraphResponse:
    actor.require_manage(app)
    raw = await request.body()
    body = await request_json(request) if raw.strip() else {}  # the body is optional
    name, end = parse_password(body, actor.directory.clock.time())
    secret = actor.directory.add_secret(actor.tenant.id, app.app_id, end)
    if name:
        actor.directory.set_key_name(secret["keyId"], name)
    item = password_json(secret, name, secret["value"])
    return GraphResponse(
        {"@odata.context": context_url(request, "microsoft.graph.passwordCredential"), **item}
    )


@router.post(
    "/v1.0/applications/{id}/addPassword",
    operation_id="graph_apps_add_password",
    summary="Add a client secret",
    openapi_extra=_PASSWORD_SCHEMA,
)
async def add_password(
    request: Request, id: str = OBJECT_ID, caller: Caller = require_op("graph_apps.add_password")
) -> Any:
    actor = _actor(request, caller)
    return await _add_password(request, actor, actor.application(id))


@router.post(
    "/v1.0/applications(appId='{app_id}')/addPassword",
    operation_id="graph_apps_add_password_by_app_id",
    summary="Add a client secret (by appId)",
    openapi_extra=_PASSWORD_SCHEMA,
)
async def add_password_by_app_id(
    request: Request, app_id: str = APP_ID, caller: Caller = require_op("graph_apps.add_password_by_app_id")
) -> Any:
    actor = _actor(request, caller)
    return await _add_password(request, actor, actor.application(_by_app_id(app_id), by_app_id=True))


@router.post(
    "/v1.0/applications/{id}/removePassword",
    status_code=204,
    operation_id="graph_apps_remove_password",
    summary="Remove a client secret",
    openapi_extra=_REMOVE_SCHEMA,
)
async def remove_password(
    request: Request, id: str = OBJECT_ID, caller: Caller = require_op("graph_apps.remove_password")
) -> Response:
    actor = _actor(request, caller)
    app = actor.application(id)
    actor.require_manage(app)
    body = await request_json(request)
    key_id = body.get("keyId")
    if set(body) - {"keyId"} or not isinstance(key_id, str) or not key_id:
        raise bad("The request body must hold 'keyId', the password credential's key id.")
    # The real service's answer for an unknown keyId is UNVERIFIED; a 400 names it.
    if not actor.directory.remove_secret(app.app_id, key_id):
        raise bad(f"No password credential with keyId '{key_id}' exists on the application.")
    return Response(status_code=204)
