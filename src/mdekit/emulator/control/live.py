"""Control plane for live response and investigations: what scripts do, machines' files, AIR timing."""

from __future__ import annotations

import base64
import binascii
from typing import Any

from fastapi import APIRouter, HTTPException, Request, Response

from mdekit.emulator.control.core import _json, emu
from mdekit.emulator.control.defender import _tenant_id
from mdekit.emulator.defender.air import FINAL_STATES
from mdekit.emulator.defender.live import DEFAULT_SCRIPT

router = APIRouter()

__all__ = ["router"]

_SCRIPT_FIELDS = {"name", *DEFAULT_SCRIPT}
_MAX_FILE = 4 * 1024**4  # a generated file may claim up to 4 TiB (nothing is stored)


def _number(body: dict[str, Any], key: str, *, integer: bool = False) -> None:
    value = body.get(key)
    if value is None:
        return
    kinds = (int,) if integer else (int, float)
    if isinstance(value, bool) or not isinstance(value, kinds) or (not integer and value < 0):
        raise HTTPException(400, f"{key} must be {'an integer' if integer else 'a number >= 0'}")


@router.get("/scripts")
def get_scripts(request: Request) -> dict[str, Any]:
    """What each library script does when run (``*`` is the default)."""
    return {"value": emu(request).defender.live.scripts.all()}


@router.post("/scripts")
async def set_script(request: Request) -> dict[str, Any]:
    """``{"name", "exitCode"?, "output"?, "errors"?, "durationSeconds"?}`` -> the script's behaviour.

    ``output``/``errors`` may use ``{args}`` and ``{name}``; a duration over 600 s makes RunScript
    fail with a timeout after 10 minutes.
    """
    body = await _json(request)
    unknown = set(body) - _SCRIPT_FIELDS
    if unknown:
        raise HTTPException(400, f"unknown field(s): {', '.join(sorted(unknown))}")
    name = body.pop("name", None)
    if not isinstance(name, str) or not name.strip():
        raise HTTPException(400, "name (the library script's file name) is required")
    _number(body, "exitCode", integer=True)
    _number(body, "durationSeconds")
    for key in ("output", "errors"):
        if key in body and not isinstance(body[key], str):
            raise HTTPException(400, f"{key} must be text")
    return {"name": name, **emu(request).defender.live.scripts.set(name, body)}


@router.delete("/scripts", status_code=204)
def reset_scripts(request: Request) -> Response:
    """Every script back to the default."""
    emu(request).defender.live.scripts.reset()
    return Response(status_code=204)


@router.delete("/scripts/{name}", status_code=204)
def delete_script(request: Request, name: str) -> Response:
    """Script *name* back to the default (404 if it had no behaviour of its own)."""
    if not emu(request).defender.live.scripts.remove(name):
        raise HTTPException(404, f"script {name!r} has no behaviour of its own")
    return Response(status_code=204)


@router.get("/investigations")
def get_investigation_timing(request: Request) -> dict[str, Any]:
    """How investigations started through the API run."""
    return emu(request).defender.air.timing()


@router.post("/investigations")
async def set_investigation_timing(request: Request) -> dict[str, Any]:
    """``{"runSeconds"?, "state"?}``: how long new investigations run and how they end
    (``state`` null: SuccessfullyRemediated if the machine has unresolved alerts, else Benign)."""
    body = await _json(request)
    unknown = set(body) - {"runSeconds", "state"}
    if unknown:
        raise HTTPException(400, f"unknown field(s): {', '.join(sorted(unknown))}")
    air = emu(request).defender.air
    _number(body, "runSeconds")
    state = body.get("state", air.timing()["state"])
    if state is not None and state not in FINAL_STATES:
        raise HTTPException(400, f"state must be null or one of {', '.join(FINAL_STATES)}")
    return air.set_timing(float(body.get("runSeconds", air.timing()["runSeconds"])), state)


def _machine(request: Request, tenant: str, machine_id: str) -> tuple[str, dict[str, Any]]:
    tid = _tenant_id(request, tenant)
    machine = emu(request).defender.machines.get(tid, machine_id)
    if machine is None:
        raise HTTPException(404, f"machine {machine_id!r} not found in tenant {tid}")
    return tid, machine


@router.get("/tenants/{tenant}/machines/{machine_id}/files")
def list_files(request: Request, tenant: str, machine_id: str) -> dict[str, Any]:
    """The machine's virtual file system: ``[{"path", "size", "sha1", "origin"}]``."""
    tid, machine = _machine(request, tenant, machine_id)
    defender = emu(request).defender
    defender.actions.settle(tid)  # completed PutFiles and quarantines show
    files = sorted(defender.files.listing(tid, machine).values(), key=lambda e: e.path.lower())
    return {"machineId": machine["id"], "value": [e.to_json() for e in files]}


@router.post("/tenants/{tenant}/machines/{machine_id}/files", status_code=201)
async def add_file(request: Request, tenant: str, machine_id: str) -> dict[str, Any]:
    """``{"path", "content"? (text) | "contentBase64"? | "size"? (generated bytes)}`` -> the file."""
    body = await _json(request)
    unknown = set(body) - {"path", "content", "contentBase64", "size"}
    if unknown:
        raise HTTPException(400, f"unknown field(s): {', '.join(sorted(unknown))}")
    path = body.get("path")
    if not isinstance(path, str) or not path.strip():
        raise HTTPException(400, "path is required")
    given = [k for k in ("content", "contentBase64", "size") if body.get(k) is not None]
    if len(given) != 1:
        raise HTTPException(400, "give exactly one of content, contentBase64 or size")
    content: bytes | None = None
    size = 0
    if "content" in given:
        if not isinstance(body["content"], str):
            raise HTTPException(400, "content must be text")
        content = body["content"].encode("utf-8")
    elif "contentBase64" in given:
        try:
            content = base64.b64decode(str(body["contentBase64"]), validate=True)
        except (binascii.Error, ValueError):
            raise HTTPException(400, "contentBase64 must be base64") from None
    else:
        size = body["size"]
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= _MAX_FILE:
            raise HTTPException(400, f"size must be an integer from 0 to {_MAX_FILE}")
    tid, machine = _machine(request, tenant, machine_id)
    defender = emu(request).defender
    with defender.db.tx() as c:
        entry = defender.files.put(c, tid, machine, path, content=content, size=size, origin="control")
    return entry.to_json()
