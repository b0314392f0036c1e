"""`Defender.from_profile`: a client from a saved `mde profile`, its secret from the environment."""

from __future__ import annotations

import pytest

from mdekit import Defender, profiles
from mdekit.errors import ConfigurationError


def _save(tmp_path, monkeypatch, **fields) -> None:
    monkeypatch.setenv("MDEKIT_CONFIG_DIR", str(tmp_path))
    config = profiles.Config()
    config.profiles["lab"] = profiles.Profile(name="lab", **fields)
    config.default = "lab"
    profiles.save(config)


def test_default_profile_reaches_the_emulator(emu, control, make_app, tmp_path, monkeypatch) -> None:
    app = make_app(permissions=["Alert.Read.All"])
    body = {"machines": 3, "alerts": 7, "seed": 5}
    seeded = control.post(f"/_emulator/tenants/{app['tenantId']}/seed", json=body)
    assert seeded.status_code == 200, seeded.text
    _save(
        tmp_path,
        monkeypatch,
        tenant=app["tenantId"],
        client_id=app["appId"],
        base_url=emu.url,
        authority=emu.url,
        ca_cert=str(emu.ca_cert),
        secret_env="LAB_SECRET",
    )
    monkeypatch.setenv("LAB_SECRET", app["secret"])
    with Defender.from_profile() as mde:
        assert len(list(mde.alerts.list())) == 7
    with Defender.from_profile("lab") as mde:
        assert mde.base_url == emu.url


def test_missing_secret_and_unknown_profile_are_clear(tmp_path, monkeypatch) -> None:
    _save(tmp_path, monkeypatch, tenant="t", client_id="c", secret_env="LAB_SECRET")
    monkeypatch.delenv("LAB_SECRET", raising=False)
    with pytest.raises(ConfigurationError, match="LAB_SECRET"):
        Defender.from_profile()
    with pytest.raises(ConfigurationError, match="no profile named 'nope'"):
        Defender.from_profile("nope")


README_STYLE = """
from mdekit import Defender

for make in (Defender.from_environment, Defender.from_profile):  # no profile saved: the environment
    with make() as mde:
        alerts = list(mde.alerts.list())
        machine = mde.machines.get(next(iter(mde.machines.list(limit=1))).computer_dns_name)
        print(make.__name__, len(alerts), machine.id == mde.machines.get(machine.id).id, mde.base_url)
"""


def test_readme_example_reaches_the_emulator_with_only_env_vars(emu, control, make_app, tmp_path) -> None:
    """The README's library example, run as a user would: a fresh process, only environment variables."""
    import os
    import subprocess
    import sys

    app = make_app(permissions=["Alert.Read.All", "Machine.Read.All"])
    seeded = control.post(f"/_emulator/tenants/{app['tenantId']}/seed", json={"machines": 2, "alerts": 5})
    assert seeded.status_code == 200, seeded.text
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "MDEKIT_"))}
    env |= {"AZURE_TENANT_ID": app["tenantId"], "AZURE_CLIENT_ID": app["appId"],
            "AZURE_CLIENT_SECRET": app["secret"], "MDEKIT_BASE_URL": emu.url, "MDEKIT_AUTHORITY": emu.url,
            "MDEKIT_CA_BUNDLE": str(emu.ca_cert), "MDEKIT_CONFIG_DIR": str(tmp_path)}  # fmt: skip
    done = subprocess.run([sys.executable, "-c", README_STYLE], env=env, capture_output=True, text=True,
                          timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines == [f"from_environment 5 True {emu.url}", f"from_profile 5 True {emu.url}"]


def test_arguments_win_over_env_and_env_over_a_named_profile(emu, make_app, tmp_path, monkeypatch) -> None:
    app = make_app(permissions=["Alert.Read.All"])
    # a saved profile that points at the real cloud; MDEKIT_* point this process at the emulator
    _save(tmp_path, monkeypatch, tenant=app["tenantId"], client_id=app["appId"], secret_env="LAB_SECRET")
    monkeypatch.setenv("LAB_SECRET", app["secret"])
    for name, value in (("MDEKIT_BASE_URL", emu.url), ("MDEKIT_AUTHORITY", emu.url),
                        ("MDEKIT_CA_BUNDLE", str(emu.ca_cert))):  # fmt: skip
        monkeypatch.setenv(name, value)
    with Defender.from_profile("lab") as mde:  # as `mde --profile lab` does: the variables win
        assert mde.base_url == emu.url and mde.tokens.get().roles == ("Alert.Read.All",)
    with Defender.from_profile("lab", base_url="https://api.security.microsoft.com") as mde:
        assert mde.base_url == "https://api.security.microsoft.com"  # an argument wins over both
    with Defender.from_profile(profiles.load().get("lab")) as mde:  # a Profile object is used as given
        assert mde.base_url == "https://api.securitycenter.microsoft.com"
    monkeypatch.setenv("MDEKIT_CA_BUNDLE", str(tmp_path / "missing-ca.pem"))
    with pytest.raises(ConfigurationError, match=r"missing-ca\.pem"):
        Defender.from_profile("lab")
