"""The library under `mde setup`: mdekit's device-code client (every polling answer, with the
waits driven on the emulator's virtual clock) and mdekit.provisioning (permissions, roles, the
Graph 403 that names the role to ask for)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from signin_helpers import GRAPH_CLI, add_user, sign_in

from mdekit import provisioning
from mdekit.auth.device_code import sign_in_with_device_code
from mdekit.catalog import GRAPH, MDE, MTP
from mdekit.emulator.server import EmulatorServer
from mdekit.errors import AuthenticationError, ConfigurationError, PermissionMissingError

SCOPES = ["https://graph.microsoft.com/Application.ReadWrite.All"]


def _sign_in(emu: EmulatorServer, tenant: str, on_sleep: Any, **kw: Any) -> Any:
    return sign_in_with_device_code(
        tenant, GRAPH_CLI, SCOPES, prompt=kw.pop("prompt", lambda p: None), authority=emu.url,
        verify=str(emu.ca_cert), sleep=on_sleep, **kw,
    )  # fmt: skip


def test_device_code_client_waits_then_gets_the_users_token(
    emu: EmulatorServer, control: httpx.Client, tenant: dict[str, Any]
) -> None:
    prompts: list[Any] = []
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:  # the person signs in during the second wait
        sleeps.append(seconds)
        control.post("/_emulator/clock", json={"advanceSeconds": seconds})
        if len(sleeps) == 2:
            body = {"userCode": prompts[0].user_code, "userPrincipalName": f"admin@{tenant['domain']}"}
            assert control.post("/_emulator/devicecode/approve", json=body).status_code == 200

    token = _sign_in(emu, tenant["tenantId"], sleep, prompt=prompts.append)
    assert sleeps == [5, 5]  # the interval before every poll
    assert (token.user, token.tenant_id, token.scopes) == (
        f"admin@{tenant['domain']}", tenant["tenantId"], ("Application.ReadWrite.All",),
    )  # fmt: skip
    assert "62e90394-69f5-4237-9190-012177145e10" in token.role_ids  # Global Administrator
    assert "access_token" not in repr(token) and token.access_token not in repr(token)
    assert repr(prompts[0]).count(prompts[0].device_code) == 0


def test_device_code_client_slows_down_when_told(
    emu: EmulatorServer, control: httpx.Client, tenant: dict[str, Any]
) -> None:
    emu.state.clock.freeze()  # no virtual time passes: every poll after the first is too fast
    prompts: list[Any] = []
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        if len(sleeps) == 3:
            body = {"userCode": prompts[0].user_code, "userPrincipalName": f"admin@{tenant['domain']}"}
            control.post("/_emulator/devicecode/approve", json=body)

    _sign_in(emu, tenant["tenantId"], sleep, prompt=prompts.append)
    assert sleeps == [5, 5, 10]  # pending, slow_down (+5 s, RFC 8628 §3.5), then the token


@pytest.mark.parametrize(
    ("ending", "words"),
    [("decline", "cancelled in the browser"), ("expire", "code expired"), ("consent", "AADSTS65001")],
)
def test_device_code_client_stops_on_the_ending_answers(
    emu: EmulatorServer, control: httpx.Client, tenant: dict[str, Any], ending: str, words: str
) -> None:
    prompts: list[Any] = []
    bob = add_user(control, tenant, "bob")

    def sleep(seconds: float) -> None:
        code = prompts[0].user_code
        if ending == "decline":
            control.post("/_emulator/devicecode/decline", json={"userCode": code})
        elif ending == "expire":
            control.post("/_emulator/clock", json={"advanceSeconds": 901})
        else:
            control.post("/_emulator/devicecode/approve", json={"userCode": code, "userPrincipalName": bob})

    with pytest.raises(AuthenticationError) as caught:
        _sign_in(emu, tenant["tenantId"], sleep, prompt=prompts.append)
    assert words in caught.value.message and caught.value.exit_code == 3
    assert caught.value.hint and "Traceback" not in caught.value.message


def test_device_code_client_gives_up_at_the_codes_expiry_and_names_bad_tenants(
    emu: EmulatorServer, tenant: dict[str, Any]
) -> None:
    ticks = iter([0.0, 0.0, 10_000.0])
    with pytest.raises(AuthenticationError) as caught:
        _sign_in(emu, tenant["tenantId"], lambda s: None, clock=lambda: next(ticks))
    assert "did not complete in time" in caught.value.message
    with pytest.raises(AuthenticationError) as bad:
        _sign_in(emu, "nosuch.onmicrosoft.com", lambda s: None)
    assert bad.value.codes == (90002,) and "tenant was not found" in bad.value.message


def test_permissions_presets_and_names() -> None:
    reader = provisioning.resolve_permissions()
    assert [str(w) for w in reader] == sorted(provisioning.PRESETS["reader"])
    hunter = {(w.resource_name, w.role) for w in provisioning.resolve_permissions(preset="hunter")}
    assert {(MTP.name, "AdvancedHunting.Read.All"), (GRAPH.name, "ThreatHunting.Read.All")} <= hunter
    mixed = provisioning.resolve_permissions(["machine.isolate, graph:SecurityAlert.Read.All"])
    assert [(w.resource_name, w.role, w.role_id) for w in mixed] == [
        (GRAPH.name, "SecurityAlert.Read.All", "472e4a4d-bb4a-4026-98d1-0b0d74cb74a5"),
        (MDE.name, "Machine.Isolate", "7e4e1300-e1b9-4102-88ba-f0cb6e6d5974"),
    ]
    for bad, words in (
        ("Machine.Levitate", "WindowsDefenderATP's are"),
        ("graph:Nope", "Microsoft Graph has no"),
    ):
        with pytest.raises(ConfigurationError, match=words):
            provisioning.resolve_permissions([bad])
    with pytest.raises(ConfigurationError, match="choose one of: reader, responder, hunter"):
        provisioning.resolve_permissions(preset="admin")


def test_who_may_grant_what() -> None:
    assert provisioning.grant_roles_needed(provisioning.resolve_permissions(preset="responder")) == [
        "Cloud Application Administrator", "Application Administrator", "Privileged Role Administrator",
        "Global Administrator",
    ]  # fmt: skip
    # Microsoft Graph's app roles: not Cloud Application or Application Administrators
    hunter = provisioning.resolve_permissions(preset="hunter")
    assert provisioning.grant_roles_needed(hunter) == [
        "Privileged Role Administrator",
        "Global Administrator",
    ]
    cloud_admin = ["158c047a-c907-4556-b7ef-446551a6b5f7"]
    assert provisioning.missing_grant_roles(cloud_admin, provisioning.resolve_permissions()) is None
    assert provisioning.missing_grant_roles(cloud_admin, hunter) == [
        "Privileged Role Administrator",
        "Global Administrator",
    ]


def test_graph_refusal_names_the_role_and_keeps_what_was_done(
    emu: EmulatorServer,
    control: httpx.Client,
    tenant: dict[str, Any],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MDEKIT_CONFIG_DIR", str(tmp_path))
    sign_in(control, tenant["tenantId"], f"admin@{tenant['domain']}", consentForOrganization=True)
    bob = add_user(control, tenant, "bob")
    token = sign_in(control, tenant["tenantId"], bob)["access_token"]
    graph = provisioning.GraphSession(emu.url, token, verify=str(emu.ca_cert))
    opts = provisioning.SetupOptions("bobs-app", provisioning.resolve_permissions(), "bob")
    said: list[str] = []
    with pytest.raises(PermissionMissingError) as caught:
        provisioning.run_setup(
            graph, tenant["tenantId"], opts, provisioning.Connection(), lambda m, t: said.append(t)
        )
    message = caught.value.message
    assert "Authorization_RequestDenied" in message and "Cloud Application Administrator" in message
    assert "run it again afterwards" in message and caught.value.exit_code == 4
    assert any("registered the application" in s for s in said)  # the app is there; a re-run finishes
    assert [c.method for c in graph.calls].count("POST") == 3  # app, service principal, the refused grant
    graph.close()


def test_dry_run_plan_names_every_call() -> None:
    opts = provisioning.SetupOptions(
        "x", provisioning.resolve_permissions(preset="hunter"), "x", credential="secret"
    )
    calls = [str(c) for c in provisioning.plan_calls(opts)]
    assert calls[1].startswith("POST /applications") and "addPassword" in calls[-1]
    grants = [c for c in calls if "/appRoleAssignedTo" in c]
    assert len(grants) == len(opts.wanted) and any(
        "dd98c7f5-2d42-42d3-a0e4-633161547251" in c for c in grants
    )
