"""Certificate assertions: every shape real clients send is accepted; broken ones are refused clearly."""

from __future__ import annotations

import base64
import json
import time
import uuid
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

MDE = "https://api.securitycenter.microsoft.com"
TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _b64(data: bytes, pad: bool) -> str:
    text = base64.urlsafe_b64encode(data).decode()
    return text if pad else text.rstrip("=")


def make_assertion(cert: Any, claims: dict[str, Any], *, alg: str = "RS256", pad: bool = False,
                   header: dict[str, Any] | None = None) -> str:  # fmt: skip
    """Sign *claims* by hand (so padding and header shapes are under the test's control)."""
    sha1, sha256 = bytes.fromhex(cert.sha1_hex), bytes.fromhex(cert.sha256_hex)
    head = header if header is not None else (
        {"alg": alg, "typ": "JWT", "x5t": _b64(sha1, True)} if alg == "RS256"
        else {"alg": alg, "typ": "JWT", "x5t#S256": _b64(sha256, True)}
    )  # fmt: skip
    signing = f"{_b64(json.dumps(head).encode(), pad)}.{_b64(json.dumps(claims).encode(), pad)}"
    key = serialization.load_pem_private_key(cert.key_pem.encode(), password=None)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    sig = key.sign(signing.encode(), padding.PKCS1v15() if alg == "RS256" else pss, hashes.SHA256())  # type: ignore[union-attr, call-arg]
    return f"{signing}.{_b64(sig, pad)}"


def _request(control: httpx.Client, app: Any, assertion: str, tenant: str | None = None) -> httpx.Response:
    form = {"grant_type": "client_credentials", "client_id": app["appId"], "client_assertion_type": TYPE,
            "client_assertion": assertion, "scope": f"{MDE}/.default"}  # fmt: skip
    return control.post(f"/{tenant or app['tenantId']}/oauth2/v2.0/token", data=form)


def _claims(app: Any, aud: str, **extra: Any) -> dict[str, Any]:
    now = time.time()
    return {"aud": aud, "iss": app["appId"], "sub": app["appId"], "jti": str(uuid.uuid4()),
            "exp": now + 600.25, **extra}  # fmt: skip


@pytest.mark.parametrize("alg", ["RS256", "PS256"])
@pytest.mark.parametrize("pad", [False, True])
@pytest.mark.parametrize("aud_form", ["v2-guid", "v1-domain", "localhost"])
def test_accepted_shapes(make_app: Any, control: httpx.Client, client_cert: Any, alg: str, pad: bool,
                         aud_form: str) -> None:  # fmt: skip
    app = make_app(secret=False, certificate_pem=client_cert.cert_pem)
    host = control.base_url.netloc.decode()
    aud = {
        "v2-guid": f"https://{host}/{app['tenantId']}/oauth2/v2.0/token",
        "v1-domain": f"https://{host}/{app['domain']}/oauth2/token",
        "localhost": f"https://localhost:{control.base_url.port}/{app['tenantId']}/oauth2/v2.0/token",
    }[aud_form]
    assertion = make_assertion(client_cert, _claims(app, aud), alg=alg, pad=pad)
    if aud_form == "localhost":  # the client reached us as localhost: aud must follow the Host it used
        with httpx.Client(base_url=f"https://localhost:{control.base_url.port}", verify=app["caCert"]) as c:
            response = _request(c, app, assertion)
    else:
        response = _request(control, app, assertion)
    assert response.status_code == 200, response.text
    claims = jwt.decode(response.json()["access_token"], options={"verify_signature": False})
    assert claims["appidacr"] == "2"


def test_repeated_jti_and_x5c_with_newlines(make_app: Any, control: httpx.Client, client_cert: Any) -> None:
    app = make_app(secret=False, certificate_pem=client_cert.cert_pem)
    aud = f"{control.base_url}/{app['tenantId']}/oauth2/v2.0/token".replace(
        "//" + app["tenantId"], "/" + app["tenantId"]
    )
    body = "".join(client_cert.cert_pem.strip().splitlines()[1:-1])
    x5c = "\n".join(body[i : i + 64] for i in range(0, len(body), 64))
    assertion = make_assertion(
        client_cert, _claims(app, aud), alg="PS256", header={"alg": "PS256", "typ": "JWT", "x5c": [x5c]}
    )
    assert _request(control, app, assertion).status_code == 200
    assert _request(control, app, assertion).status_code == 200  # same jti again: msal does this


@pytest.mark.parametrize(
    ("change", "code", "needle"),
    [
        ({"aud": "https://elsewhere.example/x/oauth2/v2.0/token"}, 700027, "audience"),
        ({"iss": "someone-else"}, 700027, "'iss' and 'sub'"),
        ({"exp": time.time() - 4000}, 700024, "expired"),
        ({"nbf": time.time() + 4000}, 700024, "not valid yet"),
    ],
)
def test_refused(make_app: Any, control: httpx.Client, client_cert: Any, change: dict[str, Any], code: int,
                 needle: str) -> None:  # fmt: skip
    app = make_app(secret=False, certificate_pem=client_cert.cert_pem)
    aud = f"https://{control.base_url.netloc.decode()}/{app['tenantId']}/oauth2/v2.0/token"
    response = _request(control, app, make_assertion(client_cert, {**_claims(app, aud), **change}))
    assert response.status_code == 401 and response.json()["error_codes"] == [code]
    assert needle in response.json()["error_description"]


def test_unregistered_key_and_forged_signature(make_app: Any, control: httpx.Client, client_cert: Any,
                                              other_cert: Any) -> None:  # fmt: skip
    app = make_app(secret=False, certificate_pem=client_cert.cert_pem)
    aud = f"https://{control.base_url.netloc.decode()}/{app['tenantId']}/oauth2/v2.0/token"
    foreign = make_assertion(other_cert, _claims(app, aud))
    assert "The key was not found" in _request(control, app, foreign).json()["error_description"]
    good = make_assertion(client_cert, _claims(app, aud))
    head, _payload, sig = good.split(".")
    forged_payload = _b64(json.dumps(_claims(app, aud, extra="x")).encode(), False)
    forged = f"{head}.{forged_payload}.{sig}"
    assert "signature is invalid" in _request(control, app, forged).json()["error_description"]
