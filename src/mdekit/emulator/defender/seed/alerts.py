"""Alerts with evidence, grouped into incidents, some with an automated investigation."""

from __future__ import annotations

from typing import Any

from mdekit.emulator.defender.seed.generator import DAY, fmt

__all__ = ["AlertFactory"]

_INV_STATES = (
    "SuccessfullyRemediated",
    "Benign",
    "Running",
    "PendingApproval",
    "PartiallyRemediated",
    "TerminatedBySystem",
    "Failed",
)


class AlertFactory:
    """Builds ``(alert, evidence)`` pairs from a generator's pools."""

    def __init__(
        self,
        gen: Any,
        machines: list[dict[str, Any]],
        users: list[dict[str, Any]],
        links: list[tuple[str, str]],
        files: list[dict[str, Any]],
        domains: list[str],
        templates: tuple[Any, ...],
        evidence_keys: tuple[str, ...],
    ) -> None:
        self.gen, self.rng = gen, gen.rng
        self.machines, self.files, self.domains, self.templates = machines, files, domains, templates
        self.blank = dict.fromkeys(evidence_keys)
        self.users_by_machine: dict[str, list[dict[str, Any]]] = {}
        by_id = {u["id"]: u for u in users}
        for mid, uid in links:
            self.users_by_machine.setdefault(mid, []).append(by_id[uid])
        self.ips = [
            f"{self.rng.randrange(40, 220)}.{self.rng.randrange(256)}.{self.rng.randrange(256)}."
            f"{self.rng.randrange(1, 255)}"
            for _ in range(max(10, len(machines) // 10))
        ]
        self.investigations: list[dict[str, Any]] = []
        self.incidents = 0
        self.tenant_id = gen.tenant
        self.detectors = [gen.guid() for _ in templates]  # one detector per alert type, as in the service

    def make(self, count: int) -> list[tuple[dict[str, Any], list[dict[str, Any]]]]:
        out: list[tuple[dict[str, Any], list[dict[str, Any]]]] = []
        incident, left, inv_id, machine = 0, 0, None, self.machines[0]
        for i in range(count):
            if left == 0:  # a new incident: 1-5 alerts on one machine, maybe investigated
                incident, left = 1000 + self.incidents, self.rng.choice((1, 1, 2, 3, 5))
                self.incidents += 1
                machine = self.machines[self.rng.randrange(len(self.machines))]
                inv_id = 5000 + len(self.investigations) if self.rng.random() < 0.6 else None
            left -= 1
            alert, evidence = self.alert(i, incident, inv_id, machine)
            if inv_id is not None and (
                not self.investigations or self.investigations[-1]["id"] != str(inv_id)
            ):
                self.investigations.append(self.investigation(inv_id, alert, machine))
            out.append((alert, evidence))
        return out

    def alert(
        self, i: int, incident: int, inv_id: int | None, m: dict[str, Any]
    ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        rng = self.rng
        which = int(rng.random() * len(self.templates))
        category, title, techniques, source, severity, family = self.templates[which]
        created = self.gen.now - rng.uniform(0, 30 * DAY)
        first = created - rng.uniform(60, 3600)
        status = rng.choices(("New", "InProgress", "Resolved"), (55, 15, 30))[0]
        resolved = status == "Resolved"
        users = self.users_by_machine.get(m["id"]) or []
        user = users[0] if users else None
        ticks = int(created * 10_000_000) + 621_355_968_000_000_000 + i
        alert = {
            "id": f"da{ticks}_{rng.randrange(10**9, 2**31)}",
            "incidentId": incident,
            "investigationId": inv_id,
            "assignedTo": rng.choice((None, None, "secops@contoso.com", "API Action"))
            if status != "New"
            else None,
            "severity": severity,
            "status": status,
            "classification": rng.choice(("TruePositive", "FalsePositive")) if resolved else None,
            "determination": rng.choice(("Malware", "Other")) if resolved else None,
            "investigationState": rng.choice(_INV_STATES) if inv_id else "UnsupportedAlertType",
            "detectionSource": source,
            "detectorId": self.detectors[which],
            "category": category,
            "threatFamilyName": family,
            "title": title,
            "description": f"{title} on {m['computerDnsName']}.",
            "alertCreationTime": fmt(created),
            "firstEventTime": fmt(first),
            "lastEventTime": fmt(created - 30),
            "lastUpdateTime": fmt(created + (rng.uniform(60, 2 * DAY) if status != "New" else 0)),
            "resolvedTime": fmt(created + rng.uniform(3600, 3 * DAY)) if resolved else None,
            "machineId": m["id"],
            "computerDnsName": m["computerDnsName"],
            "rbacGroupName": m["rbacGroupName"],
            "aadTenantId": self.tenant_id,
            "threatName": family,
            "mitreTechniques": list(techniques),
            "relatedUser": {"userName": user["accountName"], "domainName": user["accountDomain"].upper()}
            if user
            else None,
            "loggedOnUsers": [
                {"accountName": u["accountName"], "domainName": u["accountDomain"].upper()} for u in users
            ],
            "comments": [],
            "evidence": [],
            "domains": [],
        }
        return alert, self.evidence(alert, created, category, user)

    def evidence(
        self, alert: dict[str, Any], created: float, category: str, user: dict[str, Any] | None
    ) -> list[dict[str, Any]]:
        rng, when = self.rng, fmt(created)
        f = self.files[rng.randrange(len(self.files))]
        path = f"C:\\Users\\{user['accountName'] if user else 'Public'}\\Downloads"
        items = [
            {
                **self.blank,
                "entityType": "File",
                "evidenceCreationTime": when,
                "sha1": f["sha1"],
                "sha256": f["sha256"],
                "fileName": f["fileName"],
                "filePath": path,
                "detectionStatus": "Detected",
            },
            {
                **self.blank,
                "entityType": "Process",
                "evidenceCreationTime": when,
                "sha1": f["sha1"],
                "sha256": f["sha256"],
                "fileName": f["fileName"],
                "filePath": path,
                "processId": rng.randrange(1000, 30000),
                "processCommandLine": f"{f['fileName']} -q",
                "processCreationTime": when,
                "parentProcessId": rng.randrange(500, 1000),
                "parentProcessFileName": "explorer.exe",
                "parentProcessFilePath": "C:\\Windows",
                "detectionStatus": "Detected",
            },
        ]
        if category in ("CommandAndControl", "Exfiltration", "InitialAccess") or rng.random() < 0.3:
            items.append(
                {
                    **self.blank,
                    "entityType": "Ip",
                    "evidenceCreationTime": when,
                    "ipAddress": self.ips[rng.randrange(len(self.ips))],
                }
            )
            items.append(
                {
                    **self.blank,
                    "entityType": "Url",
                    "evidenceCreationTime": when,
                    "url": f"https://{self.domains[rng.randrange(len(self.domains))]}/x",
                }
            )
        if user is not None:
            items.append(
                {
                    **self.blank,
                    "entityType": "User",
                    "evidenceCreationTime": when,
                    "accountName": user["accountName"],
                    "domainName": user["accountDomain"].upper(),
                    "userSid": user["accountSid"],
                }
            )
        return items

    def investigation(self, inv_id: int, alert: dict[str, Any], m: dict[str, Any]) -> dict[str, Any]:
        state = alert["investigationState"]
        running = state in ("Running", "PendingApproval")
        return {
            "id": str(inv_id),
            "startTime": alert["alertCreationTime"],
            "endTime": None if running else alert["lastUpdateTime"],
            "state": state,
            "cancelledBy": None,
            "statusDetails": None,
            "machineId": m["id"],
            "computerDnsName": m["computerDnsName"],
            "triggeringAlertId": alert["id"],
        }
