"""File exports: a call answering download links, and the rows of those files, streamed.

The "via files" assessment exports answer ``{"exportFiles": [url, ...], "generatedTime"}``; each URL
is a signed link (no bearer token) to a gzip file of JSON lines. :class:`FileRows` fetches the
links, then downloads each file in chunks and decompresses and parses it line by line: memory
stays at one chunk plus one row, whatever the export's size. :class:`AsyncFileRows` is the
``async for`` twin; both share :class:`JsonLines` (the pure part).
"""

from __future__ import annotations

import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from mdekit.client.core import Call
from mdekit.errors import ApiError
from mdekit.models import ExportFiles

__all__ = ["AsyncFileRows", "FileRows", "FilesCall", "JsonLines"]

T = TypeVar("T")
_GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class FilesCall(Generic[T]):
    """A file export: the call answering the links (or links already fetched), the row type, and
    an optional row cap."""

    files: Call[ExportFiles] | ExportFiles
    row_type: type[T]
    limit: int | None = None


class JsonLines:
    """Bytes in (gzip or plain, in any chunking), complete JSON lines out; blank lines skipped."""

    def __init__(self) -> None:
        self._inflate: Any = None
        self._plain = False
        self._tail = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """The lines completed by *chunk*."""
        if self._inflate is None and not self._plain:
            if len(self._tail) + len(chunk) < 2:  # not enough bytes yet to tell gzip from plain text
                self._tail += chunk
                return []
            chunk, self._tail = self._tail + chunk, b""
            if chunk.startswith(_GZIP_MAGIC):
                self._inflate = zlib.decompressobj(wbits=47)  # a gzip (or zlib) header
            else:
                self._plain = True
        data = self._gunzip(chunk) if self._inflate is not None else chunk
        return self._split(data)

    def _gunzip(self, chunk: bytes) -> bytes:
        out = self._inflate.decompress(chunk)
        while self._inflate.eof and self._inflate.unused_data:  # the next gzip member
            rest = self._inflate.unused_data
            self._inflate = zlib.decompressobj(wbits=47)
            out += self._inflate.decompress(rest)
        return out

    def end(self) -> list[bytes]:
        """The last line (a file need not end with a newline); raises if the gzip stream is cut."""
        data = b""
        if self._inflate is not None:
            data = self._inflate.flush()
            if not self._inflate.eof:
                raise ApiError(
                    "export file ends before its gzip stream does (truncated download)", status=200
                )
        lines = self._split(data)
        last, self._tail = self._tail.strip(), b""
        return [*lines, last] if last else lines

    def _split(self, data: bytes) -> list[bytes]:
        if not data:
            return []
        parts = (self._tail + data).split(b"\n")
        self._tail = parts.pop()
        return [p for p in parts if p.strip()]


def _parse(row_type: Any, line: bytes) -> Any:
    try:
        return row_type.model_validate_json(line)
    except ValueError as exc:
        raise ApiError(
            f"export file has a line that is not a JSON record ({type(exc).__name__})", status=200
        ) from None


class _Cap:
    """Parses lines into rows, up to the call's row cap (shared by both twins)."""

    def __init__(self, call: FilesCall[Any]) -> None:
        self.row_type, self.left = call.row_type, call.limit

    @property
    def full(self) -> bool:
        return self.left is not None and self.left <= 0

    def rows(self, lines: list[bytes]) -> Iterator[Any]:
        if self.left is not None:
            lines = lines[: self.left]
            self.left -= len(lines)
        for line in lines:
            yield _parse(self.row_type, line)


class FileRows(Generic[T]):
    """The rows of a file export, fetched lazily on iteration (each ``iter()`` exports afresh,
    unless the call carries links already fetched).

    :attr:`files` holds the links and their time once iteration has started.
    """

    def __init__(
        self, execute: Callable[[Call[ExportFiles]], ExportFiles], stream: Callable[[str], Iterator[bytes]],
        call: FilesCall[T],
    ) -> None:  # fmt: skip
        self._execute, self._stream, self._call = execute, stream, call
        self.files: ExportFiles | None = None

    def __iter__(self) -> Iterator[T]:
        files = self._call.files
        self.files = files if isinstance(files, ExportFiles) else self._execute(files)
        cap = _Cap(self._call)
        for url in self.files.export_files:
            lines = JsonLines()
            for chunk in self._stream(url):
                yield from cap.rows(lines.feed(chunk))
                if cap.full:
                    return
            yield from cap.rows(lines.end())
            if cap.full:
                return

    def all(self) -> list[T]:
        """Every row, as a list (for small exports)."""
        return list(self)


class AsyncFileRows(Generic[T]):
    """The ``async for`` twin of :class:`FileRows`."""

    def __init__(
        self, execute: Callable[[Call[ExportFiles]], Awaitable[ExportFiles]],
        stream: Callable[[str], AsyncIterator[bytes]], call: FilesCall[T],
    ) -> None:  # fmt: skip
        self._execute, self._stream, self._call = execute, stream, call
        self.files: ExportFiles | None = None

    async def __aiter__(self) -> AsyncIterator[T]:
        files = self._call.files
        self.files = files if isinstance(files, ExportFiles) else await self._execute(files)
        cap = _Cap(self._call)
        for url in self.files.export_files:
            lines = JsonLines()
            async for chunk in self._stream(url):
                for row in cap.rows(lines.feed(chunk)):
                    yield row
                if cap.full:
                    return
            for row in cap.rows(lines.end()):
                yield row
            if cap.full:
                return

    async def all(self) -> list[T]:
        """Every row, as a list."""
        return [row async for row in self]
