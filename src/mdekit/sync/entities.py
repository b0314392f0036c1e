"""What `mde sync` copies: one :class:`Entity` per API collection, with the field it syncs by.

Each entity names its list operation (the catalogue's), its id field, its *version* field (the
record's update time, which is also what the incremental ``$filter`` uses) and its mode:

* ``incremental``: a first pass lists everything (or what changed since ``--since``); later passes
  ask only ``<version field> ge <floor>``, the floor being held back by an overlap window. The
  API filters on each of these fields (service-facts §5 and service-facts-2 §1.1, §3.1).
* ``full``: the API has no update time to filter on, so every pass lists the whole collection
  and the sink keeps only changed records. Machines: ``lastSeen`` does not move when a machine
  goes stale (``healthStatus`` turns ``Inactive`` while ``lastSeen`` stays), so filtering on it
  would miss exactly the changes a sync is for.
* ``hunting``: the rows of an advanced-hunting query (``hunting:NAME``, :mod:`mdekit.sync.hunting`),
  read in windows of their ``Timestamp``; the entity carries the query's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mdekit.errors import ConfigurationError

__all__ = ["ENTITIES", "Entity", "hunting_entity", "lookup", "normalize_time", "parse_entities"]


@dataclass(frozen=True)
class Entity:
    """One synced collection."""

    name: str
    operation: str
    id_field: str
    version_field: str
    mode: str = "incremental"
    #: The Defender XDR API (api.security.microsoft.com, its own token audience) serves it.
    xdr: bool = False
    #: ``hunting`` mode: the KQL query whose rows are synced.
    query: str = ""

    @property
    def table(self) -> str:
        """The sink's table (or file prefix) for this entity (``hunting:a-b`` -> ``mde_hunting_a_b``)."""
        table = "mde_" + re.sub(r"[^0-9A-Za-z_]+", "_", self.name).strip("_")
        if len(table) > 63:  # PostgreSQL cuts longer names: two long hunting specs would share one
            import hashlib

            table = table[:46] + "_" + hashlib.blake2b(self.name.encode(), digest_size=8).hexdigest()
        return table


ENTITIES: dict[str, Entity] = {
    "alerts": Entity("alerts", "alerts.list", "id", "lastUpdateTime"),
    "machines": Entity("machines", "machines.list", "id", "lastSeen", mode="full"),
    "incidents": Entity("incidents", "incidents.list", "incidentId", "lastUpdateTime", xdr=True),
    "vulnerabilities": Entity("vulnerabilities", "vulnerabilities.list", "id", "updatedOn"),
}
DEFAULT_ENTITIES = ("alerts", "machines", "incidents")


def parse_entities(text: str | None) -> list[Entity]:
    """``alerts,machines,hunting:NAME`` -> entities (default: alerts, machines, incidents).

    ConfigurationError for an unknown name, a hunting query that cannot be found or filled.
    """
    names = [n.strip() for n in (text or ",".join(DEFAULT_ENTITIES)).split(",") if n.strip()]
    out: list[Entity] = []
    for name in names:
        if name.startswith(HUNTING):
            entity = hunting_entity(name[len(HUNTING) :])
        elif name in ENTITIES:
            entity = ENTITIES[name]
        else:
            known = ", ".join(ENTITIES)
            raise ConfigurationError(f"unknown entity {name!r} (known: {known}, hunting:NAME)")
        if all(e.name != entity.name for e in out):
            out.append(entity)
    return out


#: The prefix of hunting-query entities (``hunting:NAME``).
HUNTING = "hunting:"


def lookup(name: str) -> Entity | None:
    """The entity a sink's state row names (a hunting entity without its query: enough for its table)."""
    if name.startswith(HUNTING):
        return Entity(name, "hunting.run", "", "Timestamp", mode="hunting")
    return ENTITIES.get(name)


def normalize_time(value: object) -> str:
    """An API time as fixed-width UTC text (7 fractional digits, ``Z``): text order is time order.

    The MDE API writes 7 digits, the XDR API sometimes fewer; both compare right once normalized.
    ``""`` for a missing or unreadable value (it sorts before every time).
    """
    if not isinstance(value, str) or not value:
        return ""
    if len(value) == 28 and value[10] == "T" and value[19] == "." and value[27] == "Z":
        return value  # already the MDE API's own form (the common case: no parsing)
    s = value.strip()
    frac = ""
    if "." in s:
        head, _, rest = s.partition(".")
        digits = "".join(c for c in rest if c.isdigit())
        frac, tail = digits[:7], rest[len(digits) :]
        s = head + tail
    try:
        dt = datetime.fromisoformat(s.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return ""
    dt = dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + frac.ljust(7, "0") + "Z"


def shift(version: str, seconds: float) -> str:
    """A normalized time moved by *seconds* (the overlap window)."""
    dt = datetime.strptime(version[:19], "%Y-%m-%dT%H:%M:%S").replace(tzinfo=UTC)
    moved = datetime.fromtimestamp(dt.timestamp() + seconds, UTC)
    return moved.strftime("%Y-%m-%dT%H:%M:%S.") + version[20:27] + "Z"


def hunting_entity(spec: str) -> Entity:
    """The entity of ``hunting:SPEC`` (a canned hunt ``NAME[?p=v&...]`` or a ``.kql`` file)."""
    spec = spec.strip()
    if not spec:
        raise ConfigurationError(
            "hunting: needs a query name: hunting:NAME (mde hunt --list) or hunting:FILE.kql"
        )
    if "/" in spec or spec.endswith(".kql"):
        path = Path(spec).expanduser()
        try:
            text = path.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or type(exc).__name__
            raise ConfigurationError(f"hunting:{spec}: cannot read the query file ({reason})") from None
        if not text.strip():
            raise ConfigurationError(f"hunting:{spec}: the query file is empty")
        name = path.name[: -len(".kql")] if path.name.endswith(".kql") else path.name
        return Entity(HUNTING + name, "hunting.run", "", "Timestamp", mode="hunting", query=text)
    from mdekit.hunts import get_hunt

    hunt_name, _, params = spec.partition("?")
    values: dict[str, str] = {}
    for item in filter(None, params.split("&")):
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ConfigurationError(f"hunting:{spec}: parameter {item!r} is not NAME=VALUE")
        values[key.strip()] = value
    text = get_hunt(hunt_name.strip()).render(values)
    return Entity(HUNTING + spec, "hunting.run", "", "Timestamp", mode="hunting", query=text)
