"""One vocabulary, three spellings: MDE alert / XDR incident values (PascalCase) and Graph's (camelCase).

Incidents and alerts are stored with the XDR/MDE names; every Graph answer maps them here, every
Graph update maps back (service-facts-2 §3.1/§3.2):

* status: MDE alert ``New|InProgress|Resolved`` = Graph ``new|inProgress|resolved``; XDR incident
  ``Active|InProgress|Resolved|Redirected`` = Graph ``active|inProgress|resolved|redirected``.
* severity: ``UnSpecified`` = Graph ``unknown``, the others lower-cased.
* classification: not set (MDE ``null``, XDR ``Unknown``) = Graph ``unknown``.
* determination: not set (MDE ``null``, XDR ``NotAvailable``) = Graph ``unknown``; the docs spell four
  values two ways (CompromisedUser/CompromisedAccount, ConfirmedUserActivity/ConfirmedActivity,
  Clean/NotMalicious, InsufficientData/NoEnoughDataToValidate/NotEnoughDataToValidate): all are
  accepted, the first spelling is stored and answered.

Graph accepts enum values in any letter case (its own update example sends ``TruePositive``).
"""

from __future__ import annotations

from mdekit.enums import INCIDENT_DETERMINATIONS

__all__ = [
    "DETERMINATION_ALIASES",
    "SEVERITY_ORDER",
    "VocabularyError",
    "canonical_determination",
    "from_graph",
    "graph_case_sql",
    "to_graph",
]

#: Severities from least to most severe (an incident takes its alerts' highest).
SEVERITY_ORDER = ("UnSpecified", "Informational", "Low", "Medium", "High")

#: Other spellings of a determination -> the stored one.
DETERMINATION_ALIASES = {
    "CompromisedAccount": "CompromisedUser",
    "ConfirmedActivity": "ConfirmedUserActivity",
    "NotMalicious": "Clean",
    "NoEnoughDataToValidate": "InsufficientData",
    "NotEnoughDataToValidate": "InsufficientData",
}
#: Graph values that no stored value can take: deprecated (Aug 2022) or sentinels.
_NOT_SETTABLE = {"apt", "securitypersonnel", "unknownfuturevalue", "awaitingaction"}


class VocabularyError(ValueError):
    """A value outside the vocabulary of the property it was given for."""


def _camel(value: str) -> str:
    return value[:1].lower() + value[1:]


def canonical_determination(value: str | None) -> str | None:
    """The stored spelling of a determination (``None`` and ``NotAvailable`` mean not set)."""
    if value in (None, "NotAvailable"):
        return None
    return DETERMINATION_ALIASES.get(value, value)


def to_graph(kind: str, value: str | None) -> str:
    """A stored value of *kind* (``status``, ``severity``, ``classification``, ``determination``)
    as Graph writes it."""
    if kind == "severity":
        return "unknown" if value in (None, "UnSpecified") else value.lower()
    if kind == "determination":
        value = canonical_determination(value)
    if value in (None, "Unknown"):
        return "unknown"
    return _camel(value)


def from_graph(kind: str, value: str, allowed: tuple[str, ...]) -> str | None:
    """A Graph value (any letter case) of *kind* as stored; ``None`` for ``unknown`` (not set).

    *allowed* are the stored values the property may take; raises :class:`VocabularyError`.
    """
    low = value.lower()
    if low in _NOT_SETTABLE:
        raise VocabularyError(f"the value '{value}' cannot be set")
    if low == "unknown" and kind in ("classification", "determination"):
        return None
    candidates = {a.lower(): a for a in allowed}
    if kind == "determination":
        candidates.update({alias.lower(): real for alias, real in DETERMINATION_ALIASES.items()})
    found = candidates.get(low)
    if found is None:
        raise VocabularyError(f"requested value '{value}' was not found")
    return found


def graph_case_sql(column: str, kind: str) -> str:
    """A SQL expression giving the Graph spelling of *column* (for ``$filter`` and ``$orderby``)."""
    stored: tuple[str, ...]
    if kind == "severity":
        stored = SEVERITY_ORDER
    elif kind == "determination":
        stored = (*INCIDENT_DETERMINATIONS[1:], *DETERMINATION_ALIASES)
    elif kind == "classification":
        stored = ("TruePositive", "InformationalExpectedActivity", "FalsePositive")
    else:  # status: alerts' and incidents' values together
        stored = ("New", "Active", "InProgress", "Resolved", "Redirected")
    whens = " ".join(f"WHEN '{v}' THEN '{to_graph(kind, v)}'" for v in stored)
    return f"(CASE {column} {whens} ELSE 'unknown' END)"
