"""`mde demo --json`: every step did what it says, checked against the request journal it carries."""

from __future__ import annotations

import json
import subprocess
from typing import Any

from cli_helpers import JWT, MDE_BIN


def _run_demo() -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run(
        [MDE_BIN, "demo", "--json"], capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    return proc.returncode, json.loads(proc.stdout), proc.stderr


def _token_posts(evidence: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        e
        for e in evidence
        if e["method"] == "POST" and "/oauth2/" in e["path"] and e["path"].endswith("token")
    ]


def test_demo_exits_0_and_every_claim_holds_in_the_journal() -> None:
    code, transcript, err = _run_demo()
    assert code == 0, err + json.dumps([s for s in transcript["steps"] if not s["ok"]], indent=1)
    steps = {s["name"]: s for s in transcript["steps"]}
    assert len(steps) == 10 and all(s["ok"] for s in steps.values())
    assert "Traceback" not in err and not JWT.search(json.dumps(transcript))

    # 1-4 happen in the directory: nothing reaches the token service or the API.
    for name in ("register", "permissions", "consent", "secret"):
        assert steps[name]["evidence"] == [], name
    # 4: the secret is shown once, masked but for its hint.
    shown = steps["secret"]["details"]["shown"]
    assert shown.startswith(steps["secret"]["details"]["hint"]) and "•" in shown

    # 6: exactly one token request per token shown, one v1 and one v2.
    posts = _token_posts(steps["token"]["evidence"])
    assert len(posts) == steps["token"]["details"]["tokensShown"] == 2
    assert sorted(p["path"].rsplit("/oauth2/", 1)[1] for p in posts) == ["token", "v2.0/token"]

    # 8: one token for the client, one GET /api/alerts.
    ev8 = steps["alerts"]["evidence"]
    assert len(_token_posts(ev8)) == 1
    assert [(e["method"], e["path"], e["status"]) for e in ev8 if e["path"].startswith("/api/")] == [
        ("GET", "/api/alerts", 200)
    ]

    # 9: the refused isolate never reached the API; the one that did came after a fresh token.
    ev9 = steps["least-privilege"]["evidence"]
    isolates = [i for i, e in enumerate(ev9) if e["method"] == "POST" and e["path"].endswith("/isolate")]
    assert len(isolates) == 1 and ev9[isolates[0]]["status"] == 201
    assert _token_posts(ev9[: isolates[0]]), "the granted isolate must use a new token"
    assert steps["least-privilege"]["details"]["refusedSent"] is False
    assert steps["least-privilege"]["details"]["finalStatus"] == "Succeeded"

    # 10: refused before consent (700016), then a token for the customer tenant.
    ten = steps["multi-tenant"]
    assert 700016 in ten["details"]["refusedCodes"]
    assert ten["details"]["tid"] == ten["details"]["secondTenant"]
    statuses = [e["status"] for e in _token_posts(ten["evidence"])]
    assert statuses[0] == 400 and statuses[-1] == 200
