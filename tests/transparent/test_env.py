"""`mde emulator env` / `trust` and the helpers behind them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from mdekit.cli.emulator_env import register
from mdekit.emulator.transparent import shell_exports, transparent_hosts, write_ca_bundle
from mdekit.testing import Emulator


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)
    return app


def test_bundle_is_roots_plus_ca_once(tmp_path: Path, mde_emulator: Emulator) -> None:
    roots = tmp_path / "roots.pem"
    roots.write_text("-----BEGIN CERTIFICATE-----\nROOT\n-----END CERTIFICATE-----\n")
    bundle = write_ca_bundle(mde_emulator.ca_cert, tmp_path / "bundle.pem", roots)
    ca = mde_emulator.ca_cert.read_text().strip()
    assert bundle.read_text().startswith(roots.read_text()) and bundle.read_text().count(ca) == 1
    roots.write_text(bundle.read_text())  # the CA is already a system root: not added twice
    assert write_ca_bundle(mde_emulator.ca_cert, tmp_path / "b2.pem", roots).read_text().count(ca) == 1


def test_shell_form_evaluates_in_a_real_shell(tmp_path: Path) -> None:
    script = shell_exports({"REQUESTS_CA_BUNDLE": str(tmp_path / "a b.pem"), "NO_PROXY": "x,y"})
    done = subprocess.run(
        ["sh", "-c", 'eval "$1"; printf "%s|%s|%s" "$REQUESTS_CA_BUNDLE" "$no_proxy" '
         '"${MSAL_FORCE_REGION-unset}"', "sh", script],
        env={**os.environ, "MSAL_FORCE_REGION": "westus"}, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert done.stdout == f"{tmp_path / 'a b.pem'}|x,y|unset"


def test_env_json_hosts_and_docker_forms(tmp_path: Path) -> None:
    runner = CliRunner()
    out = runner.invoke(_app(), ["env", "--state-dir", str(tmp_path), "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["hosts"] == [f"127.0.0.1 {h}" for h in transparent_hosts().all]
    assert data["env"]["SSL_CERT_FILE"] == data["env"]["REQUESTS_CA_BUNDLE"] == data["caBundle"]
    assert "MSAL_FORCE_REGION" in data["unset"] and "login.microsoftonline.com" in data["env"]["NO_PROXY"]
    hosts = runner.invoke(_app(), ["env", "--state-dir", str(tmp_path), "--hosts", "--address", "10.0.0.5"])
    assert "10.0.0.5 api.securitycenter.microsoft.com" in hosts.output.splitlines()
    docker = runner.invoke(_app(), ["env", "--state-dir", str(tmp_path), "--docker"])
    # a bridged container's 127.0.0.1 is itself: Docker's host-gateway reaches the host
    assert "--add-host=login.microsoftonline.com:host-gateway" in docker.output
    add_host = [flag for flag in docker.output.split() if flag.startswith("--add-host")]
    assert add_host and not [flag for flag in add_host if "127.0.0.1" in flag]
    bridge = runner.invoke(_app(), ["env", "--state-dir", str(tmp_path), "--docker", "--address", "10.1.2.3"])
    assert "--add-host=login.microsoftonline.com:10.1.2.3" in bridge.output
    human = runner.invoke(_app(), ["env", "--state-dir", str(tmp_path)])
    assert "eval" in human.output and "trust --install" in human.output


def test_curl_trusts_the_emulator_with_the_printed_settings(mde_emulator: Emulator) -> None:
    state_dir = mde_emulator.ca_cert.parent
    out = CliRunner().invoke(_app(), ["env", "--state-dir", str(state_dir), "--json"])
    env = {**os.environ, **json.loads(out.output)["env"]}
    host, port = "login.microsoftonline.com", mde_emulator.port
    cmd = [
        "curl",
        "-sf",
        "--resolve",
        f"{host}:{port}:127.0.0.1",
        f"https://{host}:{port}/common/discovery/keys",
    ]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["keys"]
    env["CURL_CA_BUNDLE"] = "/etc/ssl/certs/ca-certificates.crt"  # without our CA: refused
    assert subprocess.run(cmd, env=env, capture_output=True).returncode == 60


_TRUST = """
import sys, typer
from typer.testing import CliRunner
from mdekit.cli.emulator_env import register
app = typer.Typer(); register(app)
r = CliRunner().invoke(app, ["trust", sys.argv[1], "--state-dir", sys.argv[2]])
print(r.output); sys.exit(r.exit_code)
"""


@pytest.mark.skipif(os.geteuid() != 0 or shutil.which("update-ca-certificates") is None,
                    reason="needs root and the Debian CA store")  # fmt: skip
def test_trust_install_and_uninstall_in_a_private_mount_namespace(
    tmp_path: Path, mde_emulator: Emulator
) -> None:
    """The real update-ca-certificates, on copies of the store bind-mounted in a private namespace."""
    certs, local = tmp_path / "certs", tmp_path / "local"
    shutil.copytree("/etc/ssl/certs", certs, symlinks=True)
    shutil.copytree("/usr/local/share/ca-certificates", local)
    host, port, state = "login.microsoftonline.com", mde_emulator.port, mde_emulator.ca_cert.parent
    curl = (
        "env -u CURL_CA_BUNDLE -u SSL_CERT_FILE -u SSL_CERT_DIR curl -s -o /dev/null "
        f"--resolve {host}:{port}:127.0.0.1 https://{host}:{port}/common/discovery/keys"
    )
    py = f"{sys.executable} -c '{_TRUST}'"
    script = (
        f"mount --bind {certs} /etc/ssl/certs && mount --bind {local} /usr/local/share/ca-certificates && "
        f"{curl}; echo before=$?; {py} --install {state} >/dev/null; {curl}; echo installed=$?; "
        f"{py} --uninstall {state} >/dev/null; {curl}; echo removed=$?"
    )
    done = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.stdout.split() == ["before=60", "installed=0", "removed=60"], done.stderr[-2000:]
    assert not Path("/usr/local/share/ca-certificates/mdekit-emulator-ca.crt").exists()  # machine untouched
