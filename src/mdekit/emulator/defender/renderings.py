"""Alert renderings (evidence, investigations) as stored: JSON text, or zstd-compressed with a
dictionary trained on the seed's own values (issue 19).

A seeded alert's rendering (the JSON a list answer splices, ~1,170 bytes) is mostly what every
other alert of the tenant repeats: keys, the tenant id, titles, detector ids, machine names. A
1 MiB zstd dictionary trained on the seed's first alerts brings it to ~145 bytes for ~2.5 µs
of CPU at write and ~1 µs at read (a 10,000-alert page: ~11 ms). That is most of the bytes of a
1,000,000-alert tenant (2.6 GB before). The seed's evidence recipes
(:mod:`~mdekit.emulator.defender.evidence`, ~250 bytes) get their own dictionary: ~120 bytes; so
do its investigations (``def_investigations.data``, ~330 bytes): ~130 bytes.

Stored forms of ``def_alerts.data``, ``def_alert_evidence.evidence`` and ``def_investigations.data``
(both readable forever, :func:`unpack` tells them apart):

* text (``str``): the rendering itself - what every write but a large seed stores, and what
  earlier data files hold;
* ``bytes``: a 4-byte dictionary key (BLAKE2b of the dictionary) + a zstd frame made with that
  dictionary (without its magic number when the stored dictionary starts with :data:`MAGICLESS`).
  Dictionaries live in ``def_alert_dicts`` (three per seed, 0.5-1 MiB) and, once read, in a
  process-wide map by key: a key names one content, so the map is never stale. Each thread
  keeps decompressors for the last few dictionaries it read (:data:`_DECODERS`).
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from typing import Any

import zstandard

__all__ = [
    "MAGICLESS",
    "SEED_SHAPE",
    "Packer",
    "load_dictionaries",
    "save_dictionary",
    "train",
    "unpack",
    "unpack_text",
]

#: Dictionary sizes, and the values they are trained on (the seed's first chunk, 25,000 alerts).
#: Large enough to hold what alerts share beyond the JSON keys - the machines' parts of a rendering,
#: the file pool's hashes in evidence recipes - so a value compresses to what is its own (issue 19,
#: 200,000 alerts, bytes a value: renderings 167 -> 144 with 1 MiB instead of 64 KiB, evidence
#: recipes 106 -> 53 and investigations 92 -> 69 with 512 KiB; compressing and reading got faster,
#: training ~1.5 s slower once a seed; ~85 MB less at 1,000,000 alerts).
DICT_SIZE = 1024 * 1024
SMALL_DICT_SIZE = 512 * 1024
SAMPLES = 25_000
#: The segment shape (``k``, ``d``) zstd's search picks for seeded renderings and investigations
#: at 100,000 to 1,000,000 alerts and 1,000 or 10,000 machines (``k`` 537-1998; 1511 as good as
#: the search's pick, within 0.1-1.7 bytes a value, trained once on every sample instead of four
#: times on 75 %): given, training costs a third of the CPU (1M seed: 1.5 -> 0.8 s, issue 19).
#: Evidence recipes keep the search: their best ``k`` moves with the seed's file pool (50 at
#: 1,000,000 alerts, 537-1511 at 200,000; a fixed one costs up to ~3 bytes a recipe).
SEED_SHAPE = (1511, 8)
#: The fewest values worth training a dictionary on.
MIN_SAMPLES = 500
#: zstd level: 3 (level 1 cannot use a large dictionary: evidence recipes 53 bytes at 3, 103 at 1).
RENDERING_LEVEL = EVIDENCE_LEVEL = 3
_KEY = 4
#: Decompressors a thread keeps (~20 KB each, the dictionaries shared); three dictionaries a seeded tenant.
_DECODERS = 12

_dictionaries: dict[bytes, bytes] = {}
#: One prepared dictionary per key for every thread's decompressors: zstd's prepared dictionary
#: is read-only once made (made with the GIL held), and a 1 MiB one costs ~1 MB each time it is
#: made - per thread, it would be ~1 MB a server thread and dictionary.
_zdicts: dict[bytes, tuple[zstandard.ZstdCompressionDict, int]] = {}
#: What starts a stored dictionary whose values are zstd frames without their 4-byte magic number
#: (issue 19: ~9 bytes an alert over its rendering, evidence and investigation; ~9 MB of a
#: 1,000,000-alert seed). A trained zstd dictionary starts with its own magic (37 A4 30 EC), so
#: the dictionaries of earlier seeds (frames with the magic number) are told apart by their start.
MAGICLESS = b"mdekit magicless zstd\n"
_local = threading.local()


class Packer:
    """Compresses JSON values with one trained dictionary (the seed's)."""

    def __init__(self, dictionary: bytes, level: int) -> None:
        """*dictionary* as stored (:data:`MAGICLESS` and a zstd dictionary, or an earlier seed's
        plain one: frames with their magic number)."""
        self.dictionary = dictionary
        self.key = _key(dictionary)
        _dictionaries[self.key] = dictionary
        zdict, frames = _prepared(dictionary)
        params = zstandard.ZstdCompressionParameters.from_level(
            level, format=frames, write_checksum=0, write_dict_id=0, write_content_size=1
        )
        zdict.precompute_compress(compression_params=params)
        compressor = zstandard.ZstdCompressor(dict_data=zdict, compression_params=params)
        self._compress = compressor.compress
        # one call for a whole chunk (the C backend's; the same frames as one compress() each)
        self._compress_many = getattr(compressor, "multi_compress_to_buffer", None)

    def pack_text(self, value: str) -> bytes:
        """The stored form of *value* (JSON text)."""
        return self.key + self._compress(value.encode())

    def pack_many(self, values: list[str]) -> list[bytes]:
        """:meth:`pack_text` of each of *values* (~10 % less CPU than one call each)."""
        data = [v.encode() for v in values]
        key = self.key
        if self._compress_many is None or not data:
            return [key + self._compress(d) for d in data]
        return [key + segment.tobytes() for segment in self._compress_many(data)]


def save_dictionary(conn: sqlite3.Connection, tenant: str, dictionary: bytes) -> None:
    """Keep a packer's dictionary in the data file (inside the caller's transaction) and know it."""
    key = _key(dictionary)
    _dictionaries[key] = dictionary
    conn.execute(
        "INSERT OR REPLACE INTO def_alert_dicts (tenant, key, dict) VALUES (?, ?, ?)",
        (tenant, key, dictionary),
    )


def train(
    samples: list[bytes],
    level: int = RENDERING_LEVEL,
    size: int = DICT_SIZE,
    shape: tuple[int, int] | None = None,
) -> Packer | None:
    """A packer with a dictionary of up to *size* bytes trained on *samples* (UTF-8 JSON values),
    or ``None`` when there are too few to pay off.

    zstd searches the dictionary's segment shape (``k``, ``d``: four trainings on 75 % of the
    samples, each scored on the rest); a *shape* skips the search and trains once on them all.
    """
    if len(samples) < MIN_SAMPLES:
        return None
    try:
        picked: list[bytes | bytearray | memoryview] = list(samples[:SAMPLES])
        if shape is None:
            trained = zstandard.train_dictionary(size, picked, threads=0)
        else:
            k, d = shape
            trained = zstandard.train_dictionary(size, picked, k=k, d=d, split_point=1.0, threads=0)
    except zstandard.ZstdError:
        return None
    return Packer(MAGICLESS + trained.as_bytes(), level)


def unpack(data: str | bytes) -> str | bytes:
    """The JSON (text, or UTF-8 bytes) a stored value holds."""
    if isinstance(data, str):
        return data
    decoders: dict[bytes, Any] | None = getattr(_local, "decoders", None)
    if decoders is None:
        decoders = _local.decoders = {}
    key = data[:_KEY]
    decompress = decoders.get(key)
    if decompress is None:
        # a decompressor per thread: zstandard's objects are not to be shared between threads
        if len(decoders) >= _DECODERS:
            decoders.clear()
        prepared = _zdicts.get(key)
        if prepared is None:
            prepared = _zdicts[key] = _prepared(_dictionaries[key])
        zdict, frames = prepared
        decompress = decoders[key] = zstandard.ZstdDecompressor(dict_data=zdict, format=frames).decompress
    out: bytes = decompress(data[_KEY:])
    return out


def unpack_text(data: str | bytes) -> str:
    """The JSON text a stored value holds (``alert_json(data)`` in SQL, for ``json_extract``)."""
    out = unpack(data)
    return out if isinstance(out, str) else out.decode("utf-8")


def load_dictionaries(conn: sqlite3.Connection) -> None:
    """Know every dictionary a data file holds; register ``alert_json()`` on *conn*."""
    for key, dictionary in conn.execute("SELECT key, dict FROM def_alert_dicts"):
        _dictionaries[bytes(key)] = bytes(dictionary)
    conn.create_function("alert_json", 1, unpack_text, deterministic=True)


def _prepared(stored: bytes) -> tuple[zstandard.ZstdCompressionDict, int]:
    """The zstd dictionary a stored one holds, and the frame format of the values made with it."""
    if stored.startswith(MAGICLESS):
        return zstandard.ZstdCompressionDict(stored[len(MAGICLESS) :]), zstandard.FORMAT_ZSTD1_MAGICLESS
    return zstandard.ZstdCompressionDict(stored), zstandard.FORMAT_ZSTD1


def _key(dictionary: bytes) -> bytes:
    return hashlib.blake2b(dictionary, digest_size=_KEY).digest()
