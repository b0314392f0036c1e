"""Base of every mdekit record: snake_case fields over the wire's camelCase, nothing ever fatal.

- Field names are snake_case; the wire names (camelCase) are their aliases. Both are accepted as
  input; :meth:`MdeModel.to_wire` writes camelCase.
- Unknown fields are kept (``model_extra``), so a new service property is never lost.
- A value that does not fit its declared type (a new enum text is fine: enums are plain strings)
  does not fail the record: the field is set to ``None`` and the raw value is kept in
  ``model_extra`` under its wire name.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic.alias_generators import to_camel

__all__ = ["MdeModel", "Timestamp"]

#: A service time (ISO 8601, up to 7 fractional digits); kept as text if it cannot be parsed.
Timestamp = Annotated[datetime | str | None, Field(union_mode="left_to_right")]


class MdeModel(BaseModel):
    """A record returned by the MDE API."""

    model_config = ConfigDict(
        extra="allow", populate_by_name=True, alias_generator=to_camel, protected_namespaces=()
    )

    @model_validator(mode="wrap")
    @classmethod
    def _never_fatal(cls, data: Any, handler: Any) -> Any:
        try:
            return handler(data)
        except ValidationError as exc:
            if not isinstance(data, dict):
                raise
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            obj = handler({k: v for k, v in data.items() if k not in bad})
            if obj.__pydantic_extra__ is not None:
                obj.__pydantic_extra__.update({k: data[k] for k in bad if k in data})
            return obj

    def to_wire(self) -> dict[str, Any]:
        """The record as the API writes it (camelCase, unknown fields included)."""
        return self.model_dump(by_alias=True, mode="json")
