"""Isolate every Defender for Endpoint machine carrying a tag.

A typical piece of automation: app-only credentials from the environment (azure-identity's
``DefaultAzureCredential``), hard-coded Microsoft hosts, plain httpx. It copes with what the real
service does on a long run: throttling (429 + ``Retry-After``), a token that expires mid-run (401:
get a fresh one and retry once), and machines that already have an isolation pending (400
``ActiveRequestAlreadyExists``).

    AZURE_TENANT_ID=... AZURE_CLIENT_ID=... AZURE_CLIENT_SECRET=... python isolate_by_tag.py quarantine
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from azure.identity import DefaultAzureCredential

API = "https://api.securitycenter.microsoft.com/api"
SCOPE = "https://api.securitycenter.microsoft.com/.default"


@dataclass
class Report:
    """What happened to each tagged machine."""

    isolated: list[str] = field(default_factory=list)
    already_pending: list[str] = field(default_factory=list)


class Isolator:
    """Finds machines by tag and isolates them."""

    def __init__(
        self, credential: Any = None, sleep: Callable[[float], None] = time.sleep, max_retries: int = 5
    ):
        self._new_credential = (lambda: credential) if credential is not None else DefaultAzureCredential
        self.credential = self._new_credential()
        self.sleep = sleep
        self.max_retries = max_retries
        self.http = httpx.Client(timeout=30)
        self._token: str | None = None

    def _call(self, method: str, url: str, **kwargs: Any) -> httpx.Response:
        refreshed = False
        for _ in range(self.max_retries + 1):
            if self._token is None:
                self._token = self.credential.get_token(SCOPE).token
            resp = self.http.request(
                method, url, headers={"Authorization": f"Bearer {self._token}"}, **kwargs
            )
            if resp.status_code == 401 and not refreshed:  # expired mid-run: a new credential, a new token
                self.credential, self._token, refreshed = self._new_credential(), None, True
                continue
            if resp.status_code == 429:
                self.sleep(float(resp.headers.get("Retry-After", "1")))
                continue
            return resp
        return resp

    def machines_with_tag(self, tag: str) -> list[dict[str, Any]]:
        """Machines whose tags include *tag* exactly."""
        resp = self._call(
            "GET", f"{API}/machines/findbytag", params={"tag": tag, "useStartsWithFilter": "false"}
        )
        resp.raise_for_status()
        return list(resp.json()["value"])

    def isolate_tag(self, tag: str, comment: str = "Isolated by isolate_by_tag.py") -> Report:
        """Isolate (Full) every machine tagged *tag*."""
        report = Report()
        for machine in self.machines_with_tag(tag):
            body = {"Comment": comment, "IsolationType": "Full"}
            resp = self._call("POST", f"{API}/machines/{machine['id']}/isolate", json=body)
            if resp.status_code == 400 and resp.json()["error"]["code"] == "ActiveRequestAlreadyExists":
                report.already_pending.append(machine["id"])
                continue
            resp.raise_for_status()
            report.isolated.append(machine["id"])
        return report


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: isolate_by_tag.py TAG", file=sys.stderr)
        return 2
    report = Isolator().isolate_tag(argv[0])
    print(f"isolated {len(report.isolated)}, already pending {len(report.already_pending)}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
