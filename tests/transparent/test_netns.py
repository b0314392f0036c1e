"""Unmodified third-party code against the transparent emulator, inside a private namespace.

curl (the docs' v1 and v2 token calls, then /api/alerts), msal and azure-identity with default
arguments, a vendor-style urllib script, and `mde` itself: all reach the real hostnames, which the
namespace's /etc/hosts sends to the emulator on 127.0.0.1:443; the CA is trusted through env vars
only. The namespace has no route out, so nothing can leave the machine.
"""

from __future__ import annotations

import json
import sys

import jwt
import pytest
from netns import SCRIPTS, Proof

pytestmark = pytest.mark.socket
MDE = "https://api.securitycenter.microsoft.com"


def _claims(token: str) -> dict[str, object]:
    return jwt.decode(token, options={"verify_signature": False})


def test_no_route_leaves_the_namespace(proof: Proof) -> None:
    probe = (
        "import json, socket, errno\n"
        "s = socket.socket(); s.settimeout(2)\n"
        "try:\n    s.connect(('1.1.1.1', 443)); out = 'connected'\n"
        "except OSError as e:\n    out = errno.errorcode.get(e.errno, str(e))\n"
        "print(json.dumps({'connect': out, 'login': socket.gethostbyname('login.microsoftonline.com'),"
        " 'api': socket.gethostbyname('api.securitycenter.microsoft.com')}))"
    )
    result = proof.ns.python(probe)
    assert result == {"connect": "ENETUNREACH", "login": "127.0.0.1", "api": "127.0.0.1"}
    routes = proof.ns.run(["ip", "route", "show"])
    assert routes.returncode == 0 and "default" not in routes.stdout


@pytest.mark.parametrize("version", ["v1", "v2"])
def test_docs_curl_token_commands(proof: Proof, version: str) -> None:
    done = proof.ns.run(["sh", str(SCRIPTS / "seed_curl.sh"), version], proof.creds_env())
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    claims = _claims(body["access_token"])
    assert claims["appid"] == proof.client_id and claims["tid"] == proof.tenant_id
    if version == "v1":  # v1 answers with numbers as strings and names the resource
        assert body["resource"] == MDE and isinstance(body["expires_in"], str)
        assert claims["aud"] == MDE
    else:
        assert isinstance(body["expires_in"], int)
        assert claims["aud"] == "https://securitycenter.onmicrosoft.com/windowsatpservice"


_MSAL = """
import json, os, msal
app = msal.ConfidentialClientApplication(
    os.environ["AZURE_CLIENT_ID"], client_credential=os.environ["AZURE_CLIENT_SECRET"],
    authority="https://login.microsoftonline.com/" + os.environ["AZURE_TENANT_ID"])
first = app.acquire_token_for_client(scopes=["https://api.securitycenter.microsoft.com/.default"])
second = app.acquire_token_for_client(scopes=["https://api.securitycenter.microsoft.com/.default"])
bad = msal.ConfidentialClientApplication(
    os.environ["AZURE_CLIENT_ID"], client_credential="wrong-secret",
    authority="https://login.microsoftonline.com/" + os.environ["AZURE_TENANT_ID"]
).acquire_token_for_client(scopes=["https://api.securitycenter.microsoft.com/.default"])
print(json.dumps({"token": first.get("access_token"), "source2": second.get("token_source"),
                  "error": first.get("error_description"), "bad": bad.get("error"),
                  "bad_codes": bad.get("error_codes")}))
"""


def test_msal_with_default_arguments(proof: Proof) -> None:
    result = proof.ns.python(_MSAL, proof.creds_env())
    assert result["token"], result["error"]
    assert _claims(result["token"])["appid"] == proof.client_id
    assert result["source2"] == "cache"
    # After an error msal asks /common/discovery/instance on the real host: a clean AADSTS error,
    # not "HTTP Error: 404", proves the emulator serves it there.
    assert result["bad"] == "invalid_client" and result["bad_codes"] == [7000215]


_AZURE_IDENTITY = """
import asyncio, json
from azure.identity import ClientSecretCredential, DefaultAzureCredential
from azure.identity.aio import ClientSecretCredential as AioCredential
import os
scope = "https://api.securitycenter.microsoft.com/.default"
t, c, s = os.environ["AZURE_TENANT_ID"], os.environ["AZURE_CLIENT_ID"], os.environ["AZURE_CLIENT_SECRET"]
sync = ClientSecretCredential(t, c, s).get_token(scope).token
default = DefaultAzureCredential().get_token(scope).token
async def aio():
    async with AioCredential(t, c, s) as cred:
        return (await cred.get_token(scope)).token
print(json.dumps({"sync": sync, "default": default, "aio": asyncio.run(aio())}))
"""


def test_azure_identity_with_default_arguments(proof: Proof) -> None:
    result = proof.ns.python(_AZURE_IDENTITY, proof.creds_env())
    for kind in ("sync", "default", "aio"):
        claims = _claims(result[kind])
        assert claims["appid"] == proof.client_id and claims["aud"] == MDE, kind


_PROBE_ALERTS = """
import json, os, httpx
t = httpx.post("https://login.microsoftonline.com/%s/oauth2/token" % os.environ["AZURE_TENANT_ID"],
    data={"resource": "https://api.securitycenter.microsoft.com", "grant_type": "client_credentials",
          "client_id": os.environ["AZURE_CLIENT_ID"], "client_secret": os.environ["AZURE_CLIENT_SECRET"]})
r = httpx.get("https://api.securitycenter.microsoft.com/api/alerts",
              headers={"Authorization": "Bearer " + t.json()["access_token"]})
print(json.dumps({"status": r.status_code, "body": r.json()}))
"""


def test_plain_httpx_reads_alerts_at_the_real_host(proof: Proof) -> None:
    """A v1 token and GET /api/alerts by their real names; a missing route fails (never a skip)."""
    result = proof.ns.python(_PROBE_ALERTS, proof.creds_env())
    assert result["status"] == 200, result
    assert isinstance(result["body"]["value"], list)


def test_vendor_sample_script(proof: Proof) -> None:
    done = proof.ns.run([sys.executable, str(SCRIPTS / "vendor_sample.py")], proof.creds_env())
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result["expires_in"] == "3599"  # the v1 endpoint's string numbers
    assert result["context"] == f"{MDE}/api/$metadata#Alerts"  # the host the script called


def test_curl_reads_alerts_with_the_token(proof: Proof) -> None:
    token = json.loads(proof.ns.run(["sh", str(SCRIPTS / "seed_curl.sh"), "v1"], proof.creds_env()).stdout)
    env = {**proof.creds_env(), "ACCESS_TOKEN": token["access_token"]}
    done = proof.ns.run(["sh", str(SCRIPTS / "seed_curl.sh"), "alerts"], env)
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["@odata.context"] == f"{MDE}/api/$metadata#Alerts" and isinstance(body["value"], list)


def test_every_request_reached_the_emulator_by_its_real_name(proof: Proof) -> None:
    journal = proof.ns.python(
        "import json, httpx, os\n"
        "r = httpx.get('https://127.0.0.1:443/_emulator/requests', verify=os.environ['SSL_CERT_FILE'])\n"
        "print(json.dumps(r.json()['value']))"
    )
    hosts = {entry["host"] for entry in journal}
    assert "login.microsoftonline.com" in hosts
    assert all(not h.startswith("127.0.0.1") for h in hosts), hosts


def test_mde_itself_with_default_hosts(proof: Proof) -> None:
    done = proof.ns.run(["mde", "alerts", "list", "--top", "5", "-o", "json"], proof.creds_env())
    assert done.returncode == 0, done.stderr[-2000:]
    json.loads(done.stdout)  # well-formed JSON from the emulator's alerts
