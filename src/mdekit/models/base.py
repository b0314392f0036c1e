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
from typing import Annotated, Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from pydantic.alias_generators import to_camel

__all__ = ["MdeModel", "Timestamp"]

#: A service time (ISO 8601, up to 7 fractional digits); kept as text if it cannot be parsed.
Timestamp = Annotated[datetime | str | None, Field(union_mode="left_to_right")]


class MdeModel(BaseModel):
    """A record returned by the MDE API."""

    model_config = ConfigDict(
        extra="allow", populate_by_name=True, alias_generator=to_camel, protected_namespaces=()
    )

    @classmethod
    def model_validate(cls, obj: Any, **kwargs: Any) -> Self:
        """Validate *obj*; a field whose value does not fit is set aside instead of failing the record.

        (Done here rather than in a model validator so the fast path - whole pages validated from
        JSON in Rust - pays nothing for it; pages fall back to this per item.)
        """
        try:
            return super().model_validate(obj, **kwargs)
        except ValidationError as exc:
            if not isinstance(obj, dict):
                raise
            bad = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
            record = super().model_validate({k: v for k, v in obj.items() if k not in bad}, **kwargs)
            if record.__pydantic_extra__ is not None:
                record.__pydantic_extra__.update({k: obj[k] for k in bad if k in obj})
            return record

    def to_wire(self) -> dict[str, Any]:
        """The record as the API writes it (camelCase, unknown fields included)."""
        return self.model_dump(by_alias=True, mode="json")
