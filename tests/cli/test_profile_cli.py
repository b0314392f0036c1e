"""`mde profile ...` through the real entry point: TOML file, no secrets in it, clean refusals."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable
from pathlib import Path

import pytest
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


def _keyring_env(tmp_path: Path, backend: str) -> dict[str, str]:
    # A real keyring backend chosen the way users choose one.
    return {
        "AZURE_TENANT_ID": "",
        "AZURE_CLIENT_ID": "",
        "AZURE_CLIENT_SECRET": "",
        "PYTHON_KEYRING_BACKEND": backend,
        "XDG_DATA_HOME": str(tmp_path / "data"),
    }


def _add_keyring_profile(
    mde: Callable[..., Result], app_env: AppEnv, env: dict[str, str], *extra: str
) -> Result:
    return mde(
        "profile", "add", "kr", "--tenant", app_env.tenant, "--client-id", app_env.app_id,
        "--credential", "keyring", "--base-url", app_env.env["MDEKIT_BASE_URL"],
        "--authority", app_env.env["MDEKIT_AUTHORITY"], "--ca", app_env.env["MDEKIT_CA_BUNDLE"], *extra,
        env=env, stdin=app_env.secret + "\n",
    )  # fmt: skip


def test_file_keyring_is_refused_unless_insisted(
    mde: Callable[..., Result], app_env: AppEnv, tmp_path: Path
) -> None:
    import base64

    # keyrings.alt's PlaintextKeyring keeps secrets base64'd in a file: not the OS keyring
    env = _keyring_env(tmp_path, "keyrings.alt.file.PlaintextKeyring")
    keyring_file = tmp_path / "data" / "python_keyring" / "keyring_pass.cfg"
    refused = _add_keyring_profile(mde, app_env, env)
    assert refused.code == 2 and len(refused.err.strip().splitlines()) == 1, refused.err
    assert "PlaintextKeyring" in refused.err and "--insist-plaintext" in refused.err
    assert str(keyring_file) in refused.err and "not encrypted" in refused.err
    assert not keyring_file.exists() and not _cfg(app_env).exists()  # nothing stored, nothing saved

    added = _add_keyring_profile(mde, app_env, env, "--insist-plaintext")
    assert added.code == 0, added.err
    said = added.out + added.err
    assert "NOT the OS keyring" in said and str(keyring_file) in said
    assert "secret kept in OS keyring" not in said
    encoded = base64.b64encode(app_env.secret.encode()).decode()
    assert encoded in keyring_file.read_text()  # what it said: the secret, base64'd, in that file
    assert app_env.secret not in _cfg(app_env).read_text()
    env.update({"MDEKIT_BASE_URL": "", "MDEKIT_AUTHORITY": "", "MDEKIT_CA_BUNDLE": ""})
    result = mde("doctor", "--profile", "kr", "--no-calls", "-o", "json", env=env)
    assert result.code == 0, result.out + result.err
    checks = {row["check"]: row for row in result.json()}
    # doctor names the file, never "OS keyring", and warns (a warning is not a failure)
    assert str(keyring_file) in checks["profile"]["detail"], checks["profile"]
    assert "not the OS keyring" in checks["profile"]["detail"]
    assert checks["keyring"]["result"] == "WARN" and "PlaintextKeyring" in checks["keyring"]["detail"]
    empty = mde("doctor", "--profile", "kr", "--no-calls", env={**env, "XDG_DATA_HOME": str(tmp_path / "x")})
    assert empty.code == 2 and "no secret in the OS keyring for profile 'kr'" in empty.out, empty.out


def test_no_usable_keyring_is_refused_even_when_insisted(
    mde: Callable[..., Result], app_env: AppEnv, tmp_path: Path
) -> None:
    for backend in ("keyring.backends.fail.Keyring", "keyring.backends.null.Keyring"):
        result = _add_keyring_profile(mde, app_env, _keyring_env(tmp_path, backend), "--insist-plaintext")
        assert result.code == 2 and "no OS keyring is available" in result.err, result.err
        assert not _cfg(app_env).exists()


def test_keyring_backends_are_told_apart(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    import keyring
    from keyring.backends import SecretService, chainer
    from keyrings.alt.file import PlaintextKeyring

    from mdekit import profiles
    from mdekit.errors import ConfigurationError

    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setattr(keyring, "get_keyring", SecretService.Keyring)  # the backend object only: no D-Bus
    assert profiles.check_keyring() == profiles.KeyringBackend(
        "keyring.backends.SecretService.Keyring", True, "OS keyring"
    )
    monkeypatch.setattr(keyring, "get_keyring", PlaintextKeyring)
    with pytest.raises(ConfigurationError, match="not the OS keyring"):
        profiles.check_keyring()
    assert not profiles.check_keyring(insist_plaintext=True).os_keyring
    # the chainer stores with its first backend: a file keyring first means a file
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [PlaintextKeyring(), SecretService.Keyring()])
    monkeypatch.setattr(keyring, "get_keyring", chainer.ChainerBackend)
    assert profiles.keyring_backend().name == "keyrings.alt.file.PlaintextKeyring"
    monkeypatch.setattr(chainer.ChainerBackend, "backends", [SecretService.Keyring(), PlaintextKeyring()])
    assert profiles.check_keyring().os_keyring
