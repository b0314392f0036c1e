"""Sinks by URL: ``sqlite:///file.db`` (or a ``.db``/``.sqlite`` path), ``duckdb:///file.duckdb``
(or a ``.duckdb`` path; ``?memory_limit=256MB`` bounds DuckDB's buffer pool, which otherwise
grows to most of the machine's memory), ``postgresql://...``, ``ndjson:///directory``,
``parquet:///directory``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from mdekit.errors import ConfigurationError

__all__ = ["open_sink"]


def open_sink(url: str, **kwargs: Any) -> Any:
    """The sink *url* names, opened (schema created or migrated); ConfigurationError otherwise."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        suffix = Path(url).suffix.lower()
        scheme = {".db": "sqlite", ".sqlite": "sqlite", ".sqlite3": "sqlite", ".duckdb": "duckdb"}.get(
            suffix, ""
        )
        rest = "/" + url
    scheme = scheme.lower()
    if scheme in ("postgresql", "postgres"):
        from mdekit.sync.sinks.postgres import PostgresSink

        return PostgresSink(url, **kwargs)
    path = rest[1:] if rest.startswith("/") else rest
    if not path:
        raise ConfigurationError(f"sink {url!r} names no file or directory")
    if scheme == "sqlite":
        from mdekit.sync.sinks.sqlite import SqliteSink

        return SqliteSink(path)
    if scheme == "duckdb":
        from mdekit.sync.sinks.duckdb import DuckdbSink

        path, _, query = path.partition("?")
        options = dict(item.partition("=")[::2] for item in query.split("&") if item)
        unknown = sorted(set(options) - {"memory_limit"})
        if unknown:
            raise ConfigurationError(f"sink {url!r}: unknown option {unknown[0]!r} (known: memory_limit)")
        return DuckdbSink(path, memory_limit=options.get("memory_limit"))
    if scheme in ("ndjson", "parquet"):
        from mdekit.sync.sinks.files import FileSink

        return FileSink(path, scheme)
    raise ConfigurationError(
        f"unknown sink {url!r}: use sqlite:///FILE, duckdb:///FILE, postgresql://..., "
        "ndjson:///DIR or parquet:///DIR"
    )
