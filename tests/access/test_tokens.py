"""Every way a bearer token can be wrong, over HTTP: each is refused with its own reason,
audited once, and changes nothing; a well-formed token from a stranger organisation or
with no known role is forbidden; a good token is accepted."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from functools import cache
from typing import Any

import httpx2
import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi.testclient import TestClient

from index_service.access.devkeys import DEV_KEY_ID, ensure_dev_key
from index_service.settings import DEV_ISSUER, Settings
from tests.factories import PURPOSE, Factory, child_payload

PROBLEM_JSON = "application/problem+json"
Forge = Callable[[Settings, str], dict[str, str]]  # (settings, org code) -> request headers


@cache
def stranger_ec_key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@cache
def stranger_rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def claims(settings: Settings, org: str, **changes: Any) -> dict[str, Any]:
    """Valid data_manager claims from the dev issuer, with claims replaced as given."""
    now = int(time.time())
    valid = {
        "iss": DEV_ISSUER,
        "aud": settings.token_audience,
        "sub": "user-1",
        "name": "Test User",
        "email": "user-1@test.example",
        "org": org,
        "roles": ["data_manager"],
        "iat": now,
        "nbf": now,
        "exp": now + 600,
    }
    return {**valid, **changes}


def signed(
    settings: Settings,
    payload: dict[str, Any],
    *,
    key: Any = None,
    alg: str = "ES256",
    **header: Any,
) -> str:
    """Signed with the dev issuer's key (or `key`), kid local-dev-1 unless given."""
    return jwt.encode(
        payload,
        key if key is not None else ensure_dev_key(settings),
        algorithm=alg,
        headers={"kid": DEV_KEY_ID, **header},
    )


def hand_made(header: dict[str, Any], payload: dict[str, Any], hmac_secret: bytes | None) -> str:
    """A compact JWS built by hand: HS256 over `hmac_secret`, or no signature at all."""
    signing_input = f"{b64url(json.dumps(header).encode())}.{b64url(json.dumps(payload).encode())}"
    signature = (
        hmac.new(hmac_secret, signing_input.encode(), hashlib.sha256).digest()
        if hmac_secret is not None
        else b""
    )
    return f"{signing_input}.{b64url(signature)}"


def dev_public_pem(settings: Settings) -> bytes:
    return (
        ensure_dev_key(settings)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}", **PURPOSE}


def ago(seconds: int) -> int:
    return int(time.time()) - seconds


def later(seconds: int) -> int:
    return int(time.time()) + seconds


def send(client: TestClient, request: str, headers: dict[str, str]) -> httpx2.Response:
    if request == "POST":
        return client.post("/v1/children", json=child_payload(), headers=headers)
    return client.get(f"/v1/children/{uuid.uuid4()}", headers=headers)


def assert_refused(
    response: httpx2.Response, factory: Factory, status: int, code: str
) -> dict[str, Any]:
    """The problem document, and exactly one audit row recording the refusal."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == code
    assert response.json()["status"] == status
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    rows = factory.audit_rows()
    assert len(rows) == 1, rows
    row = rows[0]
    assert (row["outcome"], row["status_code"], row["reason"]) == ("refused", status, code)
    assert row["request_id"] == response.headers["X-Request-ID"]
    assert factory.count("child") == 0
    return row


# Each row: how the request is authenticated, and the reason it must be refused for.
REFUSED_401: list[Any] = [
    pytest.param(lambda s, org: {}, "missing_token", id="no Authorization header"),
    pytest.param(
        lambda s, org: {"Authorization": "Basic dXNlcjpwYXNz"},
        "missing_token",
        id="Basic scheme, not Bearer",
    ),
    pytest.param(lambda s, org: bearer("not.a.jwt"), "malformed_token", id="malformed token"),
    pytest.param(
        lambda s, org: bearer(signed(s, claims(s, org, iat=ago(700), nbf=ago(700), exp=ago(60)))),
        "token_expired",
        id="expired beyond the leeway",
    ),
    pytest.param(
        lambda s, org: bearer(signed(s, claims(s, org, nbf=later(300)))),
        "token_not_yet_valid",
        id="nbf in the future",
    ),
    pytest.param(
        lambda s, org: bearer(signed(s, claims(s, org, iat=later(300), exp=later(900)))),
        "token_not_yet_valid",
        id="iat in the future",
    ),
    pytest.param(
        lambda s, org: bearer(signed(s, claims(s, org, aud="another-service"))),
        "wrong_audience",
        id="another audience",
    ),
    pytest.param(
        lambda s, org: bearer(
            signed(s, claims(s, org, iss="https://evil.example"), key=stranger_ec_key())
        ),
        "issuer_not_trusted",
        id="untrusted issuer",
    ),
    pytest.param(
        lambda s, org: bearer(
            hand_made({"alg": "none", "typ": "JWT", "kid": DEV_KEY_ID}, claims(s, org), None)
        ),
        "algorithm_not_allowed",
        id="alg none, unsigned",
    ),
    pytest.param(
        lambda s, org: bearer(
            hand_made(
                {"alg": "HS256", "typ": "JWT", "kid": DEV_KEY_ID},
                claims(s, org),
                dev_public_pem(s),
            )
        ),
        "algorithm_not_allowed",
        id="HS256 keyed with the issuer's public key",
    ),
    pytest.param(
        lambda s, org: bearer(signed(s, claims(s, org), key=stranger_ec_key())),
        "bad_signature",
        id="stranger key, issuer's kid",
    ),
    pytest.param(
        lambda s, org: bearer(signed(s, claims(s, org), kid="someone-else-1")),
        "unknown_key",
        id="unknown kid",
    ),
    pytest.param(
        lambda s, org: bearer(signed(s, claims(s, org), key=stranger_rsa_key(), alg="RS256")),
        "algorithm_not_allowed",
        id="RS256 against the issuer's EC key",
    ),
    pytest.param(
        lambda s, org: bearer(signed(s, claims(s, org, padding="x" * s.max_token_bytes))),
        "token_too_large",
        id="larger than max_token_bytes",
    ),
    pytest.param(
        lambda s, org: bearer(signed(s, claims(s, org, iat=ago(0), exp=ago(0) + 3601))),
        "token_lifetime_too_long",
        id="lives longer than one hour",
    ),
    pytest.param(
        lambda s, org: bearer(signed(s, claims(s, org, sub="user\u0000-1"))),
        "invalid_token",
        id="NUL in the subject",
    ),
    pytest.param(
        lambda s, org: bearer(signed(s, claims(s, org, name="Test\nUser"))),
        "invalid_token",
        id="line break in the name",
    ),
    pytest.param(
        lambda s, org: bearer(signed(s, claims(s, org, roles=["data_manager\u0007"]))),
        "invalid_token",
        id="control character in a role",
    ),
    pytest.param(
        lambda s, org: bearer(signed(s, claims(s, org, name="Test \u202euresU"))),
        "invalid_token",
        id="right-to-left override in the name (reorders what an auditor reads)",
    ),
    pytest.param(
        lambda s, org: bearer(signed(s, claims(s, org, sub="user\u200b-1"))),
        "invalid_token",
        id="zero-width space in the subject",
    ),
    pytest.param(
        lambda s, org: bearer(
            signed(
                s,
                claims(s, org, iss="https://evil.example/\u0000", sub="\u0000" * 400),
                key=stranger_ec_key(),
            )
        ),
        "issuer_not_trusted",
        id="untrusted issuer and subject full of NULs",
    ),
]


@pytest.mark.parametrize("request_kind", ["GET", "POST"])
@pytest.mark.parametrize(("forge", "code"), REFUSED_401)
def test_a_bad_token_is_refused_audited_and_changes_nothing(
    client: TestClient,
    factory: Factory,
    settings: Settings,
    forge: Forge,
    code: str,
    request_kind: str,
) -> None:
    organisation = factory.organisation()
    response = send(client, request_kind, forge(settings, organisation.code))
    row = assert_refused(response, factory, 401, code)
    # What an unverified token claims never becomes the audited actor.
    assert (row["issuer"], row["subject"], row["organisation"]) == (None, None, None)


def test_the_oversized_token_really_is_oversized(settings: Settings) -> None:
    token = signed(settings, claims(settings, "T0", padding="x" * settings.max_token_bytes))
    assert len(token.encode()) > settings.max_token_bytes == 8192


@pytest.mark.parametrize("claim", ["aud", "sub", "exp", "iat", "name", "email", "org", "roles"])
def test_a_token_without_a_required_claim_is_refused(
    client: TestClient, factory: Factory, settings: Settings, claim: str
) -> None:
    organisation = factory.organisation()
    payload = claims(settings, organisation.code)
    del payload[claim]
    response = send(client, "POST", bearer(signed(settings, payload)))
    assert_refused(response, factory, 401, "missing_claim")
    assert claim in response.json()["detail"]


def test_an_organisation_that_is_not_registered_is_forbidden(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    token = signed(settings, claims(settings, "TNOTREGD"))
    row = assert_refused(
        send(client, "POST", bearer(token)), factory, 403, "organisation_not_participating"
    )
    assert row["organisation"] is None


def test_a_token_with_only_an_unknown_role_is_forbidden(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    organisation = factory.organisation()
    token = signed(settings, claims(settings, organisation.code, roles=["wizard"]))
    row = assert_refused(send(client, "POST", bearer(token)), factory, 403, "permission_denied")
    assert (row["organisation"], row["subject"], row["roles"]) == (organisation.code, "user-1", [])


def test_a_valid_data_manager_token_creates_a_child(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    organisation = factory.organisation()
    now = int(time.time())  # the longest lifetime allowed, to the second
    token = signed(settings, claims(settings, organisation.code, iat=now, exp=now + 3600))
    response = send(client, "POST", bearer(token))
    assert response.status_code == 201, response.text
    assert factory.count("child") == 1
    [row] = factory.audit_rows()
    assert (row["outcome"], row["status_code"], row["reason"]) == ("success", 201, None)
    assert (row["organisation"], row["subject"]) == (organisation.code, "user-1")


def test_a_long_display_name_is_audited_cut_to_the_column(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    organisation = factory.organisation()
    long_name = "Practitioner " + "q" * 280
    token = signed(settings, claims(settings, organisation.code, name=long_name))
    response = client.post("/v1/children", json=child_payload(), headers=bearer(token))
    assert response.status_code == 201, response.text
    (row,) = factory.audit_rows()
    assert row["actor_name"] == long_name[:200]


def test_what_an_unverifiable_token_claimed_is_audited_without_control_characters(
    client: TestClient, factory: Factory, settings: Settings
) -> None:
    organisation = factory.organisation()
    token = signed(
        settings,
        claims(settings, organisation.code, iss="https://evil.example/\u0000x", sub="a\nb\u2066c"),
        key=stranger_ec_key(),
    )
    response = client.get(f"/v1/children/{uuid.uuid4()}", headers=bearer(token))
    row = assert_refused(response, factory, 401, "issuer_not_trusted")
    assert row["detail"]["claimed"]["iss"] == "https://evil.example/\ufffdx"
    assert row["detail"]["claimed"]["sub"] == "a\ufffdb\ufffdc"


def test_a_remembered_token_is_refused_once_it_expires(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Tokens are verified once and remembered, but only until they expire. The clock
    is the test's: both the verifier's memory and PyJWT's expiry check read it."""
    from datetime import UTC, datetime
    from types import SimpleNamespace

    import jwt.api_jwt

    from index_service.access import tokens
    from index_service.errors import Unauthenticated

    now = float(int(time.time()))
    clock = {"now": now}

    class Frozen(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Frozen:
            return cls.fromtimestamp(clock["now"], tz=tz or UTC)

    monkeypatch.setattr(
        tokens, "time", SimpleNamespace(time=lambda: clock["now"], monotonic=time.monotonic)
    )
    monkeypatch.setattr(jwt.api_jwt, "datetime", Frozen)
    strict = settings.model_copy(update={"token_leeway_seconds": 0})
    verifier = tokens.TokenVerifier.from_settings(strict)
    token = signed(strict, claims(strict, "DEMO-EAL-01", iat=now, nbf=now, exp=now + 60))
    assert verifier.verify(token).subject == "user-1"
    clock["now"] = now + 59
    assert verifier.verify(token).subject == "user-1"  # remembered, still valid
    clock["now"] = now + 61
    with pytest.raises(Unauthenticated) as refused:
        verifier.verify(token)
    assert refused.value.code == "token_expired"
