"""Graph request bodies: JSON objects checked against an entity type's writable properties.

Property names are case-sensitive (OData); an unknown name is 400 with OData's own wording; a
known but read-only one is 400 too (what the real service does with it is UNVERIFIED - silently
ignoring it would hide a client's mistake). ``@odata.type`` may be sent and must name the type.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request

from mdekit.emulator.graph.errors import bad_request

__all__ = ["Writable", "body_schema", "check_body", "read_json"]

_UNREADABLE = (
    "Unable to read JSON request payload. Please ensure Content-Type header is set and payload is of valid "
    "JSON format."
)


@dataclass(frozen=True)
class Writable:
    """A writable property: its JSON ``kind`` (``string``, ``strings``), an optional value check
    returning the value to store (or raising ``ValueError`` with the reason), and the values it
    takes (for the OpenAPI description)."""

    kind: str = "string"
    nullable: bool = True
    convert: Callable[[Any], Any] | None = None
    values: tuple[str, ...] = ()
    required: bool = False


def body_schema(writable: dict[str, Writable]) -> dict[str, Any]:
    """``openapi_extra`` describing a JSON body of *writable* properties (``@odata.type`` allowed)."""
    properties: dict[str, Any] = {"@odata.type": {"type": "string"}}
    for name, spec in writable.items():
        schema: dict[str, Any] = (
            {"type": "array", "items": {"type": "string"}} if spec.kind == "strings" else {"type": "string"}
        )
        if spec.values:
            schema["enum"] = list(spec.values)
        if spec.nullable:
            schema["nullable"] = True
        properties[name] = schema
    required = [n for n, s in writable.items() if s.required]
    body = {"type": "object", "properties": properties, "additionalProperties": False, "required": required}
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": body}}}}


async def read_json(request: Request) -> dict[str, Any]:
    """The request body as a JSON object; 400 ``BadRequest`` otherwise."""
    try:
        body = json.loads(await request.body() or b"null")
    except ValueError:
        raise bad_request(_UNREADABLE) from None
    if not isinstance(body, dict):
        raise bad_request(_UNREADABLE)
    return body


def _typed(name: str, spec: Writable, value: Any) -> Any:
    if value is None:
        if not spec.nullable:
            raise bad_request(f"The property '{name}' cannot be null.")
        return None
    if spec.kind == "strings":
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise bad_request(f"The property '{name}' must be a collection of strings.")
    elif not isinstance(value, str):
        raise bad_request(f"The property '{name}' must be a string.")
    if spec.convert is None:
        return value
    try:
        return spec.convert(value)
    except ValueError as exc:
        raise bad_request(f"Invalid value for property '{name}': {exc}.") from None


def check_body(
    body: dict[str, Any], type_name: str, writable: dict[str, Writable], readable: tuple[str, ...] = ()
) -> dict[str, Any]:
    """*body*'s writable properties, converted; 400 for unknown, read-only or ill-typed ones."""
    out: dict[str, Any] = {}
    for name, value in body.items():
        if name == "@odata.type":
            if not isinstance(value, str) or value.lstrip("#").lower() != type_name.lower():
                raise bad_request(f"The @odata.type '{value}' does not match the type '{type_name}'.")
            continue
        spec = writable.get(name)
        if spec is None:
            if name in readable:
                raise bad_request(f"The property '{name}' of '{type_name}' is read-only and cannot be set.")
            raise bad_request(
                f"The property '{name}' does not exist on type '{type_name}'. Make sure to only use "
                "property names that are defined by the type or mark the type as open type."
            )
        out[name] = _typed(name, spec, value)
    missing = [n for n, s in writable.items() if s.required and n not in out]
    if missing:
        raise bad_request(f"The property '{missing[0]}' is required.")
    return out
