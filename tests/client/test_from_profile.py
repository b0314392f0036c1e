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
    _save(tmp_path, monkeypatch, tenant=app["tenantId"], client_id=app["appId"], base_url=emu.url,
          authority=emu.url, ca_cert=str(emu.ca_cert), secret_env="LAB_SECRET")
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
