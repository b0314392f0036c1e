"""Core pieces: catalogue, clouds, clock, errors scrubbing, signer."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from mdekit import catalog, clouds
from mdekit.emulator.clock import VirtualClock, format_odata_time, parse_time
from mdekit.emulator.db import Database
from mdekit.emulator.entra.keys import InvalidToken, TokenSigner
from mdekit.errors import ConfigurationError, register_secret, scrub


def test_find_operation_prefers_literal_paths() -> None:
    op, params = catalog.find_operation("POST", "/api/alerts/batchUpdate") or (None, None)
    assert op is not None and op.name == "alerts.batch_update" and params == {}
    op, params = catalog.find_operation("GET", "/api/Alerts/da123_1") or (None, None)
    assert op is not None and op.name == "alerts.get" and params == {"id": "da123_1"}
    assert catalog.find_operation("DELETE", "/api/alerts") is None
    # two templates match: the one with more literal text is meant
    path = "/api/machines/findbyip(ip='10.0.0.1',timestamp=2024-01-01T00:00:00Z)"
    op, params = catalog.find_operation("GET", path) or (None, None)
    assert op is not None and op.name == "machines.find_by_ip"
    assert params == {"ip": "10.0.0.1", "timestamp": "2024-01-01T00:00:00Z"}


def test_catalogue_limits_match_documented_exceptions() -> None:
    assert catalog.operation("alerts.batch_update").limit == catalog.Limit(10, 500)
    assert catalog.operation("actions.package_uri").limit == catalog.Limit(2, 120)
    assert catalog.operation("indicators.import").limit.per_minute == 30
    assert catalog.operation("hunting.run").limit == catalog.Limit(45, 1500)
    assert catalog.operation("alerts.list").limit == catalog.Limit(100, 1500)
    every_role = set(catalog.MDE.roles) | set(catalog.MTP.roles) | set(catalog.GRAPH.roles)
    for op in catalog.OPERATIONS.values():
        assert op.roles and set(op.roles) <= every_role, op.name


def test_resource_lookup_by_uri_and_app_id() -> None:
    assert catalog.resource_by_uri("https://api.securitycenter.microsoft.com/") is catalog.MDE
    assert catalog.resource_by_uri("https://securitycenter.onmicrosoft.com/windowsatpservice") is catalog.MDE
    assert catalog.resource_by_uri(catalog.GRAPH.app_id) is catalog.GRAPH
    assert catalog.resource_by_uri("https://example.com") is None


def test_clouds_and_regions() -> None:
    gcc_high = clouds.get_cloud("GCC-High")
    assert gcc_high.login_host == "login.microsoftonline.us"
    assert gcc_high.scope == "https://api-gov.securitycenter.microsoft.us/.default"
    assert clouds.get_cloud("gcc").login_host == "login.microsoftonline.com"
    eu = clouds.get_cloud("commercial", "eu")
    assert eu.api_host == "eu.api.security.microsoft.com"
    assert eu.resource == "https://api.securitycenter.microsoft.com"
    with pytest.raises(ConfigurationError):
        clouds.get_cloud("mars")
    with pytest.raises(ConfigurationError):
        clouds.get_cloud("dod", "eu")


def test_clock_advance_set_freeze() -> None:
    clock = VirtualClock()
    clock.freeze()
    t0 = clock.time()
    clock.advance(3600)
    assert clock.time() == t0 + 3600
    clock.set(datetime(2030, 1, 1, tzinfo=UTC))
    assert clock.now() == datetime(2030, 1, 1, tzinfo=UTC)


def test_time_formats_round_trip() -> None:
    dt = parse_time("2024-01-02T13:39:46.7738206Z")
    assert format_odata_time(dt) == "2024-01-02T13:39:46.7738200Z"
    assert parse_time("2018-08-01") == datetime(2018, 8, 1, tzinfo=UTC)
    with pytest.raises(ValueError):
        parse_time("yesterday")


def test_scrub_removes_tokens_and_secret_shapes() -> None:
    opaque = "Zm9vYmFyYmF6cXV4cXV1eA-opaque_token"
    text = f"Authorization: Bearer {opaque} client_secret=s3cr3t~value&x=1 eyJhbGciOi.eyJzdWIi.c2ln"
    out = scrub(text)
    assert "s3cr3t" not in out and opaque not in out and "eyJhbGciOi" not in out
    assert out.startswith("Authorization: Bearer ***") and "&x=1" in out
    assert scrub('{"client_secret": "s3cr3t~value", "password":"pw-1"}') == (
        '{"client_secret": "***", "password":"***"}'
    )
    pem = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----"
    assert scrub(f"key: {pem} end") == "key: *** end"


def test_scrub_masks_entra_secret_shapes() -> None:
    from mdekit.emulator.entra.directory import new_secret_value

    for _ in range(200):  # random values: every alphabet character lands at either end some time
        value = new_secret_value()
        assert scrub(f"AZURE_CLIENT_SECRET={value}") == "AZURE_CLIENT_SECRET=***"
        assert scrub(f"the secret {value}.") == "the secret ***."


def test_scrub_masks_a_secret_that_holds_a_jwt_prefix() -> None:
    # Random secrets may hold "eyJ" and dots: the JWT shape once cut such a one in two (and ate the
    # sentence's full stop), leaving most of the secret in the text.
    value = "uRM8Q~CxfaeQv7LE-b7~3rY4~piwe-b7eyJab.cd"
    assert len(value) == 40
    assert scrub(f"the secret {value}.") == "the secret ***."


def test_scrub_leaves_words_alone() -> None:
    # The message that broke: "set" after "secret:" was masked as if it were the secret.
    message = "no client secret: set the environment variable AZURE_CLIENT_SECRET"
    assert scrub(message) == message
    assert ConfigurationError(message).message == message
    for text in (
        "the Authorization header is missing or is not a Bearer token",
        "password: required; secret = optional; access_token expired",
        "give the client secret (--client-secret) or a certificate",
    ):
        assert scrub(text) == text


def test_registered_secret_values_are_masked_anywhere() -> None:
    from mdekit.auth.credentials import ClientSecretCredential

    secret = "plain words but secret 4711"  # no token or secret shape at all
    before = f"config said {secret!r}"
    assert scrub(before) == before
    ClientSecretCredential("tenant", "client", secret)  # a credential registers its secret
    assert scrub(before) == "config said '***'"
    assert ConfigurationError(f"bad value {secret}").message == "bad value ***"
    register_secret("short")  # too short to mask safely: words would go
    assert scrub("a short note") == "a short note"


def test_signer_mints_and_verifies_and_persists(tmp_path) -> None:
    db = Database(tmp_path / "e.db")
    signer = TokenSigner(db)
    token = signer.mint({"aud": "https://api.securitycenter.microsoft.com", "exp": 2000, "nbf": 1000})
    claims = signer.verify(token, now=1500, audiences=("https://api.securitycenter.microsoft.com/",))
    assert claims["aud"] == "https://api.securitycenter.microsoft.com"
    with pytest.raises(InvalidToken) as exc:
        signer.verify(token, now=2001)
    assert exc.value.reason == "expired"
    with pytest.raises(InvalidToken) as exc:
        signer.verify(token, now=1500, audiences=("https://graph.microsoft.com",))
    assert exc.value.reason == "audience"
    head, body, sig = token.split(".")
    with pytest.raises(InvalidToken) as exc:
        signer.verify(f"{head}.{body}x.{sig}", now=1500)
    assert exc.value.reason in ("signature", "malformed")
    db.close()
    # The key survives a restart: the same token still verifies with a new signer on the same file.
    reopened = Database(tmp_path / "e.db")
    again = TokenSigner(reopened)
    assert again.kid == signer.kid
    assert again.verify(token, now=1500)["exp"] == 2000
    reopened.close()
