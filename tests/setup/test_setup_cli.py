"""`mde setup` end to end, as real subprocesses against the emulator over HTTPS: sign-in, app,
consent, credential, profile, doctor and `mde alerts list`; the idempotent re-run; missing roles;
consent blocked by policy; partners' multi-tenant consent; sign-in endings; dry run; secrets,
rotation and removal."""

from __future__ import annotations

import json
import os
import re
import stat
from pathlib import Path
from typing import Any

import httpx
import pytest
from setup_cli import mde, setup_env
from signin_helpers import add_user, sign_in

from mdekit.emulator.server import EmulatorServer


@pytest.fixture
def seeded(control: httpx.Client, tenant: dict[str, Any]) -> dict[str, Any]:
    """The tenant with Defender data, and device codes polled every second."""
    control.post(f"/_emulator/tenants/{tenant['tenantId']}/seed", json={"machines": 4, "alerts": 12})
    control.post("/_emulator/devicecode/settings", json={"interval": 1})
    return tenant


@pytest.fixture
def env(emu: EmulatorServer, tmp_path: Path) -> dict[str, str]:
    return setup_env(emu, tmp_path)


def _apps(control: httpx.Client, tenant: dict[str, Any]) -> list[dict[str, Any]]:
    return list(control.get(f"/_emulator/tenants/{tenant['tenantId']}/applications").json()["value"])


def _marks(out: str) -> list[str]:
    """The marks of setup's own lines (+ done now, = already so, - removed, ! warning), doctor's left out."""
    own = out.split("running `mde doctor")[0]
    return [line[0] for line in own.splitlines() if line[:2] in ("+ ", "= ", "- ", "! ")]


def test_setup_end_to_end_and_idempotent_rerun(
    emu: EmulatorServer, control: httpx.Client, seeded: dict[str, Any], env: dict[str, str], tmp_path: Path
) -> None:
    admin = f"admin@{seeded['domain']}"
    args = [
        "setup",
        "--tenant",
        seeded["domain"],
        "--name",
        "soc-reader",
        "--preset",
        "reader",
        "--wait",
        "10",
    ]
    first = mde(emu, env, *args, upn=admin)
    assert first.code == 0, first.out + first.err
    assert "enter the code" in first.err and first.approvals[0].status_code == 200
    for words in ("+ signed in as " + admin, "+ registered the application 'soc-reader'",
                  "+ created its service principal", "+ granted admin consent for Alert.Read.All",
                  "+ added a certificate credential", "+ profile 'soc-reader' saved"):  # fmt: skip
        assert words in first.out, (words, first.out)
    assert "all checks passed" in first.out  # `mde doctor` ran against the new profile
    (app,) = _apps(control, seeded)
    assert app["displayName"] == "soc-reader" and sorted(app["grantedRoles"]) == sorted(app["permissions"])
    assert len(app["certificates"]) == 1 and app["secrets"] == []
    cert = next((tmp_path / "config" / "certs").glob("soc-reader-*.pem"))
    assert stat.S_IMODE(os.stat(cert).st_mode) == 0o600 and "PRIVATE KEY" in cert.read_text()
    listed = mde(emu, env, "alerts", "list", "--profile", "soc-reader", "-o", "json")
    assert listed.code == 0 and len(json.loads(listed.out)) == 12, listed.err

    again = mde(emu, env, *args, upn=admin)
    assert again.code == 0, again.out + again.err
    assert _marks(again.out) == ["+", "=", "=", "=", "=", "=", "=", "="], (
        again.out
    )  # signed in; nothing else changed
    assert "(kept)" in again.out and _apps(control, seeded)[0]["certificates"] == app["certificates"]

    more = mde(
        emu, env, *args[:-4], "--permissions", "Machine.Isolate,Machine.Scan", "--no-doctor", upn=admin
    )
    assert more.code == 0, more.out + more.err
    assert "+ requested Machine.Isolate, Machine.Scan" in more.out
    assert "+ granted admin consent for Machine.Isolate, Machine.Scan" in more.out
    assert sorted(_apps(control, seeded)[0]["grantedRoles"]) == sorted(
        [*app["grantedRoles"], "Machine.Isolate", "Machine.Scan"]
    )


def test_missing_admin_role_changes_nothing_and_names_the_role(
    emu: EmulatorServer, control: httpx.Client, seeded: dict[str, Any], env: dict[str, str]
) -> None:
    # An administrator allowed Graph's app-management scopes for everyone once: bob can sign in ...
    sign_in(control, seeded["tenantId"], f"admin@{seeded['domain']}", consentForOrganization=True)
    bob = add_user(control, seeded, "bob")
    run = mde(emu, env, "setup", "--tenant", seeded["tenantId"], "--name", "bobs-app", upn=bob)
    assert run.code == 4, run.out + run.err
    error = run.err.strip().splitlines()[-1]
    assert (
        error.startswith("error: ")
        and "Cloud Application Administrator" in error
        and "nothing was changed" in error
    )
    assert _apps(control, seeded) == []  # ... but nothing was created


def test_consent_blocked_by_policy_is_explained(
    emu: EmulatorServer, control: httpx.Client, seeded: dict[str, Any], env: dict[str, str]
) -> None:
    bob = add_user(control, seeded, "bob")
    run = mde(emu, env, "setup", "--tenant", seeded["tenantId"], upn=bob)
    assert run.code == 3, run.out + run.err
    error = run.err.strip().splitlines()[-1]
    assert "AADSTS65001" in error and "administrator" in error and "Traceback" not in run.err


def test_partner_multi_tenant_app_and_customer_consent_link(
    emu: EmulatorServer, control: httpx.Client, seeded: dict[str, Any], env: dict[str, str], make_tenant: Any
) -> None:
    run = mde(emu, env, "setup", "--tenant", seeded["tenantId"], "--name", "partner-app", "--multi-tenant",
              "--no-doctor", upn=f"admin@{seeded['domain']}")  # fmt: skip
    assert run.code == 0, run.out + run.err
    link = next(line.strip() for line in run.lines if "/oauth2/authorize?" in line)
    assert "prompt=consent" in link and "client_id=" in link
    customer = make_tenant("Fabrikam")
    control.post(f"/_emulator/tenants/{customer['tenantId']}/seed", json={"machines": 2, "alerts": 3})
    page = control.get(link.replace(emu.url, ""))
    assert page.status_code == 200 and "Alert.Read.All" in page.text
    client_id = re.search(r"client_id=([0-9a-f-]+)", link).group(1)  # type: ignore[union-attr]
    accepted = control.post(
        "/common/oauth2/consent-decision",
        data={
            "client_id": client_id,
            "flow": "v1",
            "tenant": customer["tenantId"],
            "decision": "accept",
            "redirect_uri": "https://portal.azure.com",
        },
    )
    assert accepted.status_code == 302 and "admin_consent=True" in accepted.headers["location"]
    there = mde(
        emu, env, "alerts", "list", "--profile", "partner-app", "--tenant", customer["tenantId"], "-o", "json"
    )
    assert there.code == 0 and len(json.loads(there.out)) == 3, there.err


def test_sign_in_that_ends_badly(
    emu: EmulatorServer, control: httpx.Client, seeded: dict[str, Any], env: dict[str, str]
) -> None:
    declined = mde(emu, env, "setup", "--tenant", seeded["tenantId"], decline=True)
    assert declined.code == 3 and "cancelled in the browser" in declined.err, declined.err
    # nobody signs in; 15 minutes pass on the emulator's clock
    advance = {"advanceSeconds": 901}
    expired = mde(emu, env, "setup", "--tenant", seeded["tenantId"],
                  on_code=lambda code: control.post("/_emulator/clock", json=advance))  # fmt: skip
    assert expired.code == 3 and "expired" in expired.err.strip().splitlines()[-1], expired.err
    assert _apps(control, seeded) == []


def test_dry_run_prints_the_graph_calls_and_sends_nothing(
    emu: EmulatorServer, control: httpx.Client, env: dict[str, str]
) -> None:
    control.delete("/_emulator/requests")
    run = mde(emu, env, "setup", "--dry-run", "--name", "x", "--preset", "hunter", "--credential", "secret")
    assert run.code == 0, run.err
    assert "POST /applications" in run.out and "/appRoleAssignedTo" in run.out and "addPassword" in run.out
    assert "93489bf5-0fbc-4f2d-b901-33f2fe08ff05" in run.out  # AdvancedQuery.Read.All's real id
    assert "/servicePrincipals?$filter=appId eq '00000003-0000-0000-c000-000000000000'" in run.out
    assert control.get("/_emulator/requests").json()["value"] == []


def test_secret_credential_rotation_and_removal(
    emu: EmulatorServer, control: httpx.Client, seeded: dict[str, Any], env: dict[str, str], tmp_path: Path
) -> None:
    admin = f"admin@{seeded['domain']}"
    refused = mde(emu, env, "setup", "--tenant", seeded["tenantId"], "--credential", "secret")
    assert refused.code == 2 and "--insist-plaintext" in refused.err and _apps(control, seeded) == []
    run = mde(emu, env, "setup", "--tenant", seeded["tenantId"], "--name", "ci", "--credential", "secret",
              "--insist-plaintext", "--show-secret", "--no-doctor", upn=admin, shows_secret=True)  # fmt: skip
    assert run.code == 0, run.out + run.err
    secret = next(
        line.split(": ", 1)[1] for line in run.lines if line.startswith("client secret (shown once")
    )
    (app,) = _apps(control, seeded)
    assert app["secrets"][0]["hint"] == secret[:3]
    assert mde(emu, env, "alerts", "list", "--profile", "ci", "-o", "json").code == 0

    rotated = mde(emu, env, "setup", "rotate-credential", "--profile", "ci", "--insist-plaintext", upn=admin)
    assert rotated.code == 0, rotated.out + rotated.err
    assert (
        "+ the new credential gets tokens" in rotated.out and "- removed the previous secret" in rotated.out
    )
    (after,) = _apps(control, seeded)[0]["secrets"]
    assert after["hint"] != secret[:3] or after["keyId"] != app["secrets"][0]["keyId"]
    assert mde(emu, env, "alerts", "list", "--profile", "ci", "-o", "json").code == 0

    unconfirmed = mde(emu, env, "setup", "remove", "--profile", "ci")  # no terminal to ask on
    assert unconfirmed.code == 2 and "add --yes to confirm" in unconfirmed.err, unconfirmed.err
    assert len(_apps(control, seeded)) == 1
    gone = mde(emu, env, "setup", "remove", "--profile", "ci", "--yes", upn=admin)
    assert gone.code == 0, gone.out + gone.err
    assert "- deleted the application 'ci'" in gone.out and _apps(control, seeded) == []
    assert "ci" not in (tmp_path / "config" / "profiles.toml").read_text()


def test_certificate_rotation(
    emu: EmulatorServer, control: httpx.Client, seeded: dict[str, Any], env: dict[str, str], tmp_path: Path
) -> None:
    admin = f"admin@{seeded['domain']}"
    assert (
        mde(emu, env, "setup", "--tenant", seeded["tenantId"], "--name", "bot", "--no-doctor", upn=admin).code
        == 0
    )
    (old,) = _apps(control, seeded)[0]["certificates"]
    rotated = mde(emu, env, "setup", "rotate-credential", "--profile", "bot", upn=admin)
    assert rotated.code == 0, rotated.out + rotated.err
    (new,) = _apps(control, seeded)[0]["certificates"]
    assert new["thumbprintSha1"] != old["thumbprintSha1"]
    files = list((tmp_path / "config" / "certs").glob("bot-*.pem"))
    assert [f.name for f in files] == [f"bot-{new['thumbprintSha1'][:12].lower()}.pem"]  # the old key is gone
    assert mde(emu, env, "alerts", "list", "--profile", "bot", "-o", "json").code == 0
