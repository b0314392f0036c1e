"""One explanation per token failure: the library's exception and the `mde` commands say the same.

Each case breaks one thing in the environment a user exports (wrong secret, unknown app, unknown or
malformed tenant, a certificate the app does not know, a resource that is not there), then asks for
a token three ways against the emulator: the library (``Defender.from_environment()``, which reads
the same variables), ``mde token get`` and ``mde alerts list`` (real subprocesses), plus ``mde
doctor``. All must carry the explanation from the one AADSTS table, word for word.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import trustme
from cli_helpers import AppEnv, Result, parallel

from mdekit import Defender
from mdekit.auth.credentials import AADSTS_HINTS
from mdekit.errors import AuthenticationError

UNKNOWN = "00000000-0000-0000-0000-0000000000aa"
CASES: dict[str, tuple[int, dict[str, str]]] = {
    "wrong secret": (7000215, {"AZURE_CLIENT_SECRET": "not-the-secret-value-but-its-id"}),
    "unknown app": (700016, {"AZURE_CLIENT_ID": UNKNOWN}),
    "unknown tenant": (90002, {"AZURE_TENANT_ID": UNKNOWN}),
    "malformed tenant": (900023, {"AZURE_TENANT_ID": "not_a_tenant"}),
    "unregistered certificate": (700027, {"AZURE_CLIENT_SECRET": ""}),  # + AZURE_CLIENT_CERTIFICATE_PATH
}


@pytest.fixture
def broken(app_env: AppEnv, tmp_path: Path, request: pytest.FixtureRequest) -> tuple[int, dict[str, str]]:
    code, changes = CASES[request.param]
    env = {**changes}
    if request.param == "unregistered certificate":
        pem = tmp_path / "client.pem"
        leaf = trustme.CA().issue_cert("client.example", key_type=trustme.KeyType.RSA)
        leaf.private_key_and_cert_chain_pem.write_to_path(str(pem))
        env["AZURE_CLIENT_CERTIFICATE_PATH"] = str(pem)
    app_env.secrets.extend(v for k, v in changes.items() if k == "AZURE_CLIENT_SECRET" and v)
    return code, env


def _library_error(app_env: AppEnv, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> str:
    for name, value in {**app_env.env, **env}.items():
        monkeypatch.setenv(name, value)
    with pytest.raises(AuthenticationError) as info, Defender.from_environment() as mde:
        mde.tokens.get()
    return str(info.value)


@pytest.mark.parametrize("broken", list(CASES), indirect=True)
def test_library_and_cli_explain_a_token_failure_alike(
    broken: tuple[int, dict[str, str]],
    app_env: AppEnv,
    mde: Callable[..., Result],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    code, env = broken
    hint = AADSTS_HINTS[code]
    library = _library_error(app_env, env, monkeypatch)
    assert f"AADSTS{code}" in library and library.endswith(f"(hint: {hint})")

    run = _runner(mde, env)
    cert_path = env.get("AZURE_CLIENT_CERTIFICATE_PATH")
    cert = ["--certificate", cert_path] if cert_path else []
    token_get = ["token", "get", "--authority", app_env.env["MDEKIT_AUTHORITY"],
                 "--ca", app_env.env["MDEKIT_CA_BUNDLE"], *cert]  # fmt: skip
    got, listed, doctor = parallel(run, tuple(token_get), ("alerts", "list", "-o", "json"),
                                   ("doctor", "--no-calls", "-o", "json"))  # fmt: skip
    # the same failure, the same words: the CLI prints the library's message
    assert (got.code, listed.code, doctor.code) == (3, 3, 3), (got.err, listed.err, doctor.out)
    assert got.err.strip() == f"error: {library}", got.err
    assert listed.err.strip() == f"error: {library}", listed.err
    token_row = next(row for row in doctor.json() if row["check"] == "token")
    assert token_row["fix"] == hint and f"AADSTS{code}" in token_row["detail"]
    assert hint not in token_row["detail"]  # said once, on the fix line


def test_resource_not_found_is_explained_alike(
    app_env: AppEnv, mde: Callable[..., Result], monkeypatch: pytest.MonkeyPatch
) -> None:
    resource = "https://no-such-resource.example.com"
    for name, value in app_env.env.items():
        monkeypatch.setenv(name, value)
    with (
        pytest.raises(AuthenticationError) as info,
        Defender.from_environment(scope=f"{resource}/.default") as client,
    ):
        client.tokens.get()
    assert info.value.codes == (500011,) and str(info.value).endswith(f"(hint: {AADSTS_HINTS[500011]})")
    got = mde("token", "get", "--authority", app_env.env["MDEKIT_AUTHORITY"],
              "--ca", app_env.env["MDEKIT_CA_BUNDLE"], "--resource", resource)  # fmt: skip
    assert got.code == 3 and f"(hint: {AADSTS_HINTS[500011]})" in got.err


def _runner(mde: Callable[..., Result], env: dict[str, str]) -> Callable[..., Result]:
    def run(*args: Any) -> Result:
        return mde(*args, env=env)

    return run
