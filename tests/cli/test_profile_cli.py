"""`mde profile ...` through the real entry point: TOML file, no secrets in it, clean refusals."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

from cli_helpers import AppEnv, Result, parallel


def _cfg(app_env: AppEnv) -> Path:
    return Path(app_env.env["MDEKIT_CONFIG_DIR"]) / "profiles.toml"


def test_add_list_show_use_remove(mde: Callable[..., Result], app_env: AppEnv) -> None:
    assert mde("profile", "add", "contoso", "--tenant", "t-1", "--client-id", "c-1").code == 0
    assert (
        mde("profile", "add", "fabrikam", "--tenant", "t-2", "--client-id", "c-2", "--cloud", "gcc").code == 0
    )
    rows = mde("profile", "list", "-o", "json").json()
    assert [(r["name"], r["default"]) for r in rows] == [("contoso", "*"), ("fabrikam", "")]
    assert mde("profile", "use", "fabrikam").code == 0
    shown = mde("profile", "show", "-o", "json").json()
    assert shown["name"] == "fabrikam" and shown["cloud"] == "gcc" and shown["default"] is True
    assert mde("profile", "remove", "fabrikam").code == 0
    assert [r["name"] for r in mde("profile", "list", "-o", "json").json()] == ["contoso"]
    assert stat.S_IMODE(os.stat(_cfg(app_env)).st_mode) == 0o600


def test_plaintext_secret_needs_insisting_and_is_0600(mde: Callable[..., Result], app_env: AppEnv) -> None:
    refused = mde(
        "profile",
        "add",
        "p",
        "--tenant",
        "t",
        "--client-id",
        "c",
        "--credential",
        "file",
        stdin="s3cret-value\n",
    )
    assert refused.code == 2 and "--insist-plaintext" in refused.err and len(refused.err.splitlines()) == 1
    app_env.secrets.append("s3cret-value")
    ok = mde(
        "profile",
        "add",
        "p",
        "--tenant",
        "t",
        "--client-id",
        "c",
        "--credential",
        "file",
        "--insist-plaintext",
        stdin="s3cret-value\n",
    )
    assert ok.code == 0
    secret_file = Path(app_env.env["MDEKIT_CONFIG_DIR"]) / "secrets" / "p"
    assert secret_file.read_text().strip() == "s3cret-value"
    assert stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    assert "s3cret-value" not in _cfg(app_env).read_text()


def test_profile_drives_a_real_call(mde: Callable[..., Result], app_env: AppEnv) -> None:
    # A profile whose secret comes from a differently named variable; no AZURE_* needed.
    env = {
        "AZURE_TENANT_ID": "",
        "AZURE_CLIENT_ID": "",
        "AZURE_CLIENT_SECRET": "",
        "MY_SECRET": app_env.secret,
    }
    added = mde(
        "profile",
        "add",
        "emu",
        "--tenant",
        app_env.tenant,
        "--client-id",
        app_env.app_id,
        "--secret-env",
        "MY_SECRET",
        "--base-url",
        app_env.env["MDEKIT_BASE_URL"],
        "--authority",
        app_env.env["MDEKIT_AUTHORITY"],
        "--ca",
        app_env.env["MDEKIT_CA_BUNDLE"],
        env=env,
    )
    assert added.code == 0
    env.update({"MDEKIT_BASE_URL": "", "MDEKIT_AUTHORITY": "", "MDEKIT_CA_BUNDLE": ""})
    result = mde("doctor", "--profile", "emu", "--no-calls", "-o", "json", env=env)
    assert result.code == 0, result.out + result.err
    assert app_env.secret not in _cfg(app_env).read_text()


def test_bad_input_is_one_line(mde: Callable[..., Result]) -> None:
    for result in parallel(  # each refused before the profiles file is written
        mde,
        ("profile", "show", "nope"),
        ("profile", "add", "bad name!", "--tenant", "t", "--client-id", "c"),
        ("profile", "add", "x", "--tenant", "t", "--client-id", "c", "--cloud", "mars"),
        ("profile", "add", "x", "--tenant", "t", "--client-id", "c", "--credential", "carrier-pigeon"),
    ):
        assert result.code == 2, (result.args, result.err)
        assert result.err.startswith("error: ") and len(result.err.strip().splitlines()) == 1


def test_all_profiles_fans_out_and_tags_rows(
    mde: Callable[..., Result], app_env: AppEnv, control: object
) -> None:
    import httpx

    assert isinstance(control, httpx.Client)
    other = control.post("/_emulator/tenants", json={"displayName": "Fabrikam"}).json()["tenantId"]
    control.post(f"/_emulator/tenants/{other}/seed", json={"machines": 2, "alerts": 3, "seed": 5})
    control.post(f"/_emulator/tenants/{other}/consent", json={"appId": app_env.app_id})
    common = [
        "--client-id",
        app_env.app_id,
        "--base-url",
        app_env.env["MDEKIT_BASE_URL"],
        "--authority",
        app_env.env["MDEKIT_AUTHORITY"],
        "--ca",
        app_env.env["MDEKIT_CA_BUNDLE"],
    ]
    assert mde("profile", "add", "contoso", "--tenant", app_env.tenant, *common).code == 0
    assert mde("profile", "add", "fabrikam", "--tenant", other, *common).code == 0
    rows = mde("machines", "list", "--all-profiles", "-o", "ndjson").ndjson()
    counts = {name: sum(1 for r in rows if r["tenant"] == name) for name in ("contoso", "fabrikam")}
    assert counts == {"contoso": 6, "fabrikam": 2}


def test_keyring_secret_drives_a_real_call(
    mde: Callable[..., Result], app_env: AppEnv, tmp_path: Path
) -> None:
    # A real keyring backend (keyrings.alt's file keyring) chosen the way users choose one.
    env = {
        "AZURE_TENANT_ID": "",
        "AZURE_CLIENT_ID": "",
        "AZURE_CLIENT_SECRET": "",
        "PYTHON_KEYRING_BACKEND": "keyrings.alt.file.PlaintextKeyring",
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }
    added = mde(
        "profile",
        "add",
        "kr",
        "--tenant",
        app_env.tenant,
        "--client-id",
        app_env.app_id,
        "--credential",
        "keyring",
        "--base-url",
        app_env.env["MDEKIT_BASE_URL"],
        "--authority",
        app_env.env["MDEKIT_AUTHORITY"],
        "--ca",
        app_env.env["MDEKIT_CA_BUNDLE"],
        env=env,
        stdin=app_env.secret + "\n",
    )
    assert added.code == 0, added.err
    assert app_env.secret not in _cfg(app_env).read_text()
    env.update({"MDEKIT_BASE_URL": "", "MDEKIT_AUTHORITY": "", "MDEKIT_CA_BUNDLE": ""})
    result = mde("doctor", "--profile", "kr", "--no-calls", "-o", "json", env=env)
    assert result.code == 0, result.out + result.err
    empty = mde("doctor", "--profile", "kr", "--no-calls", env={**env, "XDG_DATA_HOME": str(tmp_path / "x")})
    assert empty.code == 2 and "no secret in the OS keyring for profile 'kr'" in empty.out, empty.out
