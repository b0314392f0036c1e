"""The answer of an advanced-hunting query, whichever API ran it, and its DataFrame conversions.

The MDE and XDR APIs answer ``{"Stats", "Schema": [{"Name", "Type"}], "Results"}``; Graph answers
``{"schema": [{"name", "type"}], "results"}`` (no stats). :func:`parse_result` reads both into one
:class:`HuntingResult`. pandas, polars and pyarrow are optional extras, imported only when a
conversion is asked for.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from mdekit.errors import ApiError, ConfigurationError

__all__ = ["HuntingColumn", "HuntingResult", "parse_result"]


@dataclass(frozen=True)
class HuntingColumn:
    """One result column: its name and the API's type name (``DateTime``, ``String``, ``Int64``, ...)."""

    name: str
    type: str


@dataclass
class HuntingResult:
    """Rows (dicts keyed by column name, values as the API sent them), schema, stats, and the API used.

    Iterating yields the rows; ``len()`` is the row count. ``Object`` (dynamic) values are JSON
    values (dicts/lists); ``DateTime`` values are ISO strings (the DataFrame conversions parse them).
    """

    rows: list[dict[str, Any]]
    schema: list[HuntingColumn]
    stats: dict[str, Any] = field(default_factory=dict)
    api: str = ""

    @property
    def columns(self) -> list[str]:
        """Column names, in order."""
        return [c.name for c in self.schema]

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)

    def to_pandas(self) -> Any:
        """A ``pandas.DataFrame`` (UTC timestamps, nullable ints/bools); needs ``mdekit[pandas]``."""
        pd = _optional("pandas", "pandas")
        frame = pd.DataFrame(self._typed_columns(), columns=self.columns)
        nullable = {"Int64": "Int64", "Int32": "Int32", "Boolean": "boolean"}  # keep ints int with nulls
        for col in self.schema:
            if col.type == "DateTime":
                frame[col.name] = pd.to_datetime(frame[col.name], utc=True)
            elif col.type in nullable:
                frame[col.name] = frame[col.name].astype(nullable[col.type])
        return frame

    def to_polars(self) -> Any:
        """A ``polars.DataFrame`` with a dtype per schema type; needs ``mdekit[polars]``."""
        pl = _optional("polars", "polars")
        dtypes = {
            "String": pl.Utf8,
            "Int64": pl.Int64,
            "Int32": pl.Int32,
            "Boolean": pl.Boolean,
            "Double": pl.Float64,
            "DateTime": pl.Datetime("us", "UTC"),
        }
        schema = {c.name: dtypes.get(c.type, pl.Utf8) for c in self.schema}
        return pl.DataFrame(self._typed_columns(json_objects=True), schema=schema)

    def to_arrow(self) -> Any:
        """A ``pyarrow.Table`` with a type per schema type; needs ``mdekit[arrow]``."""
        pa = _optional("pyarrow", "arrow")
        types = {
            "String": pa.string(),
            "Int64": pa.int64(),
            "Int32": pa.int32(),
            "Boolean": pa.bool_(),
            "Double": pa.float64(),
            "DateTime": pa.timestamp("us", tz="UTC"),
        }
        fields = [pa.field(c.name, types.get(c.type, pa.string())) for c in self.schema]
        data = self._typed_columns(json_objects=True)
        return pa.table(
            {f.name: pa.array(data[f.name], type=f.type) for f in fields}, schema=pa.schema(fields)
        )

    def _typed_columns(self, *, json_objects: bool = False) -> dict[str, list[Any]]:
        """Column name -> values; datetimes parsed; dynamic values as JSON text when *json_objects*."""
        out: dict[str, list[Any]] = {}
        for col in self.schema:
            values = [row.get(col.name) for row in self.rows]
            if col.type == "DateTime":
                values = [_parse_time(v) for v in values]
            elif json_objects and col.type not in _SCALAR_TYPES:
                values = [_json_text(v) for v in values]
            out[col.name] = values
        return out


_SCALAR_TYPES = frozenset({"String", "Int64", "Int32", "Boolean", "Double", "DateTime"})


def _parse_time(value: Any) -> datetime | None:
    # The API writes 7 fractional digits; Python keeps microseconds (the 7th digit is always 0 here).
    if not isinstance(value, str) or not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _json_text(value: Any) -> str | None:
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value, separators=(",", ":"))


def _optional(module: str, extra: str) -> Any:
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ConfigurationError(
            f"{module} is not installed: pip install 'mdekit[{extra}]' (or pip install {module})"
        ) from None


def _pick(body: dict[str, Any], *names: str) -> Any:
    for name in names:
        if name in body:
            return body[name]
    return None


def parse_result(body: Any, api: str) -> HuntingResult:
    """Read an MDE/XDR (``Schema``/``Results``/``Stats``) or Graph (``schema``/``results``) answer."""
    if not isinstance(body, dict):
        raise ApiError("hunting answer is not a JSON object", status=200, body=body)
    raw_schema = _pick(body, "Schema", "schema")
    rows = _pick(body, "Results", "results")
    if not isinstance(raw_schema, list) or not isinstance(rows, list):
        raise ApiError("hunting answer has no schema/results arrays", status=200, body=body)
    schema = [
        HuntingColumn(str(_pick(c, "Name", "name")), str(_pick(c, "Type", "type") or "Object"))
        for c in raw_schema
        if isinstance(c, dict)
    ]
    stats = _pick(body, "Stats", "stats")
    return HuntingResult(
        [r for r in rows if isinstance(r, dict)], schema, stats if isinstance(stats, dict) else {}, api
    )
