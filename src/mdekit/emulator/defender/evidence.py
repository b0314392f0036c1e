"""Alert evidence as stored, and as answered.

Two stored forms (both JSON in ``def_alert_evidence.evidence``: text, or compressed as a large seed
stores it, :mod:`mdekit.emulator.defender.renderings`):

* a list of evidence objects without their null keys (``[{...}, ...]``): any evidence;
* a seeded *recipe* ``[1, when, sha1, sha256, fileName, pid, ppid, ip, url, account, domain, sid]``:
  the seed generator's File + Process (+ Ip + Url) (+ User) items in ~200 bytes instead of ~1 KB,
  expanded to the very same objects when read (``$expand=evidence``, hunting). Seeding 100,000
  alerts writes five times less evidence this way.

Answers always carry every key of :data:`EVIDENCE_KEYS` in the real order (null when n/a).
"""

from __future__ import annotations

from typing import Any

from mdekit.emulator.defender.enums import EVIDENCE_KEYS
from mdekit.emulator.defender.jsonio import dumps, loads
from mdekit.emulator.defender.renderings import unpack

__all__ = ["RECIPE", "compact", "evidence_entities", "expand"]

#: First element of a seeded recipe (a version, so the form can change without a migration).
RECIPE = 1
_BLANK = dict.fromkeys(EVIDENCE_KEYS)


def compact(evidence: list[dict[str, Any]]) -> str:
    """Any evidence list as stored: objects without their null keys."""
    return dumps([{k: v for k, v in ev.items() if v is not None} for ev in evidence])


def expand(text: str | bytes) -> list[dict[str, Any]]:
    """Stored evidence (either form) with every key back in the real order."""
    value = loads(unpack(text))
    if value and value[0] == RECIPE:
        return _from_recipe(value)
    return [{**_BLANK, **ev} for ev in value]


def _from_recipe(r: list[Any]) -> list[dict[str, Any]]:
    _, when, sha1, sha256, name, pid, ppid, ip, url, account, domain, sid = r
    path = f"C:\\Users\\{account or 'Public'}\\Downloads"
    common = {
        "evidenceCreationTime": when,
        "sha1": sha1,
        "sha256": sha256,
        "fileName": name,
        "filePath": path,
    }
    items = [
        {**_BLANK, "entityType": "File", **common, "detectionStatus": "Detected"},
        {
            **_BLANK,
            "entityType": "Process",
            **common,
            "processId": pid,
            "processCommandLine": f"{name} -q",
            "processCreationTime": when,
            "parentProcessId": ppid,
            "parentProcessFileName": "explorer.exe",
            "parentProcessFilePath": "C:\\Windows",
            "detectionStatus": "Detected",
        },
    ]
    if ip is not None:
        items.append({**_BLANK, "entityType": "Ip", "evidenceCreationTime": when, "ipAddress": ip})
        items.append({**_BLANK, "entityType": "Url", "evidenceCreationTime": when, "url": url})
    if account is not None:
        items.append(
            {
                **_BLANK,
                "entityType": "User",
                "evidenceCreationTime": when,
                "accountName": account,
                "domainName": domain,
                "userSid": sid,
            }
        )
    return items


def evidence_entities(alert: dict[str, Any], evidence: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """``(kind, value)`` pairs an alert names: file sha1s, IPs, domains, user names."""
    out: set[tuple[str, str]] = set()
    for ev in evidence:
        if ev.get("sha1"):
            out.add(("file", ev["sha1"]))
        if ev.get("ipAddress"):
            out.add(("ip", ev["ipAddress"]))
        if ev.get("url"):
            out.add(("domain", url_host(ev["url"])))
        if ev.get("entityType") == "User" and ev.get("accountName"):
            out.add(("user", ev["accountName"]))
    user = alert.get("relatedUser")
    if user and user.get("userName"):
        out.add(("user", user["userName"]))
    return out


def url_host(url: str) -> str:
    """The host part of a URL (``https://host/x`` -> ``host``)."""
    return url.split("://", 1)[-1].split("/", 1)[0]
