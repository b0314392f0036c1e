"""Canned advanced-hunting queries (``.kql`` files), runnable with ``mde hunt --name NAME``.

Each file starts with ``//`` header lines::

    // Processes whose image has a given hash.
    // param: hash - SHA-1, SHA-256 or MD5 of the file
    // param: limit:int=1000 - at most this many rows

The first line is the description; each ``param:`` line declares ``NAME[:TYPE][=DEFAULT] - help``
with TYPE ``string`` (the default: the value becomes a quoted KQL string literal), ``int`` or
``timespan`` (``7d``, ``12h``, ``30m``; written bare). ``{NAME}`` in the body is replaced by the
value, so a value can never change the query's structure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources

from mdekit.errors import ConfigurationError

__all__ = ["CannedHunt", "HuntParam", "all_hunts", "get_hunt", "kql_string", "parse_hunt"]


@dataclass(frozen=True)
class HuntParam:
    """A declared parameter: name, type, default (``None`` = required) and help text."""

    name: str
    type: str = "string"
    default: str | None = None
    help: str = ""


@dataclass(frozen=True)
class CannedHunt:
    """A canned query: name (file stem), description, parameters and KQL text with placeholders."""

    name: str
    description: str
    params: tuple[HuntParam, ...]
    text: str

    def render(self, values: dict[str, str]) -> str:
        """The query with every ``{param}`` filled (values checked and escaped by type)."""
        known = {p.name for p in self.params}
        unknown = sorted(set(values) - known)
        if unknown:
            takes = ", ".join(sorted(known)) or "none"
            raise ConfigurationError(f"hunt {self.name!r} has no parameter {unknown[0]!r}; it takes: {takes}")
        filled = {p.name: _literal(p, values.get(p.name, p.default), self.name) for p in self.params}
        return _PLACEHOLDER.sub(lambda m: filled.get(m.group(1), m.group(0)), self.text)


_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")
_PARAM = re.compile(
    r"^//\s*param:\s*(?P<name>[A-Za-z_]\w*)(?::(?P<type>string|int|timespan))?(?:=(?P<default>\S+))?"
    r"\s*(?:-\s*(?P<help>.*))?$"
)
_TIMESPAN = re.compile(r"^\d+(d|h|m|s|ms)$")


def kql_string(value: str) -> str:
    """*value* as a double-quoted KQL string literal (backslash, quote and control characters escaped)."""
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    return f'"{out}"'


def _literal(param: HuntParam, value: str | None, hunt: str) -> str:
    if value is None:
        raise ConfigurationError(
            f"hunt {hunt!r} needs --param {param.name}=VALUE" + (f" ({param.help})" if param.help else "")
        )
    if param.type == "int":
        if not re.fullmatch(r"\d{1,9}", value):
            raise ConfigurationError(f"--param {param.name}: {value!r} is not a whole number")
        return value
    if param.type == "timespan":
        if not _TIMESPAN.match(value):
            raise ConfigurationError(f"--param {param.name}: {value!r} is not a timespan like 7d, 12h or 30m")
        return value
    return kql_string(value)


def parse_hunt(name: str, text: str) -> CannedHunt:
    """Read a canned hunt's header (description, ``param:`` lines) and keep its text."""
    description, params = "", []
    for line in text.splitlines():
        if not line.startswith("//"):
            break
        m = _PARAM.match(line.strip())
        if m:
            help_text = (m["help"] or "").strip()
            params.append(HuntParam(m["name"], m["type"] or "string", m["default"], help_text))
        elif not description:
            description = line[2:].strip()
    return CannedHunt(name, description, tuple(params), text)


def all_hunts() -> dict[str, CannedHunt]:
    """Every canned hunt shipped with mdekit, by name."""
    files = resources.files(__name__)
    found = {}
    for entry in sorted(files.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".kql"):
            stem = entry.name[: -len(".kql")]
            found[stem] = parse_hunt(stem, entry.read_text(encoding="utf-8"))
    return found


def get_hunt(name: str) -> CannedHunt:
    """The canned hunt *name* (``ConfigurationError`` naming the available ones otherwise)."""
    hunts = all_hunts()
    if name not in hunts:
        raise ConfigurationError(f"no canned hunt {name!r}; available: {', '.join(hunts)} (mde hunt --list)")
    return hunts[name]
