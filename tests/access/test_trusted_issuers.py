"""Trusted issuers from settings: JWK sets in a file or at a URL, keys chosen by `kid`."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from jwt.algorithms import ECAlgorithm, RSAAlgorithm

from index_service.access.tokens import TokenVerifier
from index_service.errors import Forbidden, ServiceUnavailable, Unauthenticated
from index_service.settings import Settings, TrustedIssuer

RSA_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
EC_KEY = ec.generate_private_key(ec.SECP256R1())


def _jwk(public_key: Any, kid: str, algorithm: str) -> dict[str, Any]:
    codec = RSAAlgorithm if algorithm == "RS256" else ECAlgorithm
    jwk: dict[str, Any] = codec.to_jwk(public_key, as_dict=True)
    return {**jwk, "kid": kid, "alg": algorithm, "use": "sig"}


def _token(issuer: str, key: Any, kid: str, algorithm: str, org: str = "ORG1") -> str:
    now = int(time.time())
    claims = {
        "iss": issuer,
        "aud": "index-service",
        "sub": "u-1",
        "name": "N",
        "email": "n@x.example",
        "org": org,
        "roles": ["practitioner"],
        "iat": now,
        "exp": now + 600,
    }
    return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid})


@pytest.fixture
def jwks_server() -> Iterator[str]:
    body = json.dumps({"keys": [_jwk(EC_KEY.public_key(), "url-key-1", "ES256")]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/jwks.json"
    server.shutdown()


def test_an_rs256_issuer_from_a_jwks_file(tmp_path: Path) -> None:
    keys = tmp_path / "jwks.json"
    keys.write_text(
        json.dumps(
            {
                "keys": [
                    _jwk(RSA_KEY.public_key(), "rsa-1", "RS256"),
                    _jwk(EC_KEY.public_key(), "ec-1", "ES256"),
                ]
            }
        )
    )
    settings = Settings(
        dev_issuer_enabled=False,
        trusted_issuers=[TrustedIssuer(issuer="https://idp.example", jwks_file=keys)],
    )
    verifier = TokenVerifier.from_settings(settings)
    claims = verifier.verify(_token("https://idp.example", RSA_KEY, "rsa-1", "RS256"))
    assert (claims.issuer, claims.subject) == ("https://idp.example", "u-1")
    assert verifier.verify(_token("https://idp.example", EC_KEY, "ec-1", "ES256")).subject == "u-1"
    with pytest.raises(Unauthenticated) as refused:  # the RSA key under the EC key's kid
        verifier.verify(_token("https://idp.example", RSA_KEY, "ec-1", "RS256"))
    assert refused.value.code == "algorithm_not_allowed"


def test_an_issuer_whose_keys_are_fetched_from_a_url(jwks_server: str) -> None:
    settings = Settings(
        dev_issuer_enabled=False,
        trusted_issuers=[TrustedIssuer(issuer="https://idp.example", jwks_url=jwks_server)],
    )
    verifier = TokenVerifier.from_settings(settings)
    assert (
        verifier.verify(_token("https://idp.example", EC_KEY, "url-key-1", "ES256")).subject
        == "u-1"
    )
    with pytest.raises(Unauthenticated) as refused:
        verifier.verify(_token("https://idp.example", EC_KEY, "no-such-kid", "ES256"))
    assert refused.value.code == "unknown_key"


def test_the_development_issuer_is_not_trusted_when_disabled(settings: Settings) -> None:
    from index_service.access.devkeys import mint_dev_token

    token = mint_dev_token(
        settings,
        subject="s",
        name="n",
        email="e@x.example",
        organisation="ORG1",
        roles=["practitioner"],
    )
    assert TokenVerifier.from_settings(settings).verify(token).subject == "s"
    off = settings.model_copy(update={"dev_issuer_enabled": False})
    with pytest.raises(Unauthenticated) as refused:
        TokenVerifier.from_settings(off).verify(token)
    assert refused.value.code == "issuer_not_trusted"


def test_keys_that_are_not_for_signing_or_for_another_algorithm_are_not_used(
    tmp_path: Path,
) -> None:
    keys = tmp_path / "jwks.json"
    p384 = ec.generate_private_key(ec.SECP384R1())
    keys.write_text(
        json.dumps(
            {
                "keys": [
                    {**_jwk(EC_KEY.public_key(), "enc-1", "ES256"), "use": "enc"},
                    {**_jwk(p384.public_key(), "p384-1", "ES256"), "alg": "ES384"},
                ]
            }
        )
    )
    settings = Settings(
        dev_issuer_enabled=False,
        trusted_issuers=[TrustedIssuer(issuer="https://idp.example", jwks_file=keys)],
    )
    verifier = TokenVerifier.from_settings(settings)
    for kid in ("enc-1", "p384-1"):
        with pytest.raises(Unauthenticated) as refused:
            verifier.verify(_token("https://idp.example", EC_KEY, kid, "ES256"))
        assert refused.value.code == "unknown_key"


def test_unreachable_issuer_keys_are_a_503_not_a_401() -> None:
    """The caller's token may be good; the service just cannot check it now."""
    settings = Settings(
        dev_issuer_enabled=False,
        trusted_issuers=[
            # Port 9 (discard) on loopback: nothing listens, the connection is refused.
            TrustedIssuer(issuer="https://idp.example", jwks_url="http://127.0.0.1:9/jwks.json")
        ],
    )
    verifier = TokenVerifier.from_settings(settings)
    with pytest.raises(ServiceUnavailable) as unavailable:
        verifier.verify(_token("https://idp.example", EC_KEY, "url-key-1", "ES256"))
    assert unavailable.value.status == 503
    assert unavailable.value.code == "issuer_keys_unavailable"


@pytest.mark.parametrize(
    ("url", "accepted"),
    [
        ("https://idp.example/.well-known/jwks.json", True),
        ("http://127.0.0.1:8080/jwks.json", True),
        ("http://localhost/jwks.json", True),
        ("http://idp.example/jwks.json", False),
        ("ftp://idp.example/jwks.json", False),
        ("file:///etc/jwks.json", False),
        ("https:///no-host", False),
    ],
)
def test_issuer_keys_are_fetched_over_tls_except_on_loopback(url: str, accepted: bool) -> None:
    if accepted:
        assert TrustedIssuer(issuer="https://idp.example", jwks_url=url).jwks_url == url
    else:
        with pytest.raises(ValueError, match="https"):
            TrustedIssuer(issuer="https://idp.example", jwks_url=url)


@pytest.mark.parametrize(
    ("environment", "trusted"),
    [("development", True), ("test", False), ("production", False)],
)
def test_the_development_issuer_is_trusted_by_default_only_in_development(
    environment: str, trusted: bool, tmp_path: Path
) -> None:
    settings = Settings(
        environment=environment,  # type: ignore[arg-type]
        database_url="postgresql://db.example/index",
        trusted_issuers=[TrustedIssuer(issuer="https://idp.example", jwks_file=tmp_path / "k")],
        audit_verify_key_file=tmp_path / "audit.pub",
        audit_checkpoint_dir=tmp_path / "checkpoints",
        public_url="https://index.example",
    )
    assert settings.dev_issuer_enabled is trusted


def test_an_issuer_vouches_only_for_its_own_organisations(tmp_path: Path) -> None:
    keys = tmp_path / "jwks.json"
    keys.write_text(json.dumps({"keys": [_jwk(EC_KEY.public_key(), "ec-1", "ES256")]}))
    settings = Settings(
        dev_issuer_enabled=False,
        trusted_issuers=[
            TrustedIssuer(issuer="https://idp.example", jwks_file=keys, organisations=["org1"])
        ],
    )
    verifier = TokenVerifier.from_settings(settings)
    assert verifier.verify(_token("https://idp.example", EC_KEY, "ec-1", "ES256")).subject == "u-1"
    other = _token("https://idp.example", EC_KEY, "ec-1", "ES256", org="ORG2")
    with pytest.raises(Forbidden) as refused:
        verifier.verify(other)
    assert refused.value.code == "issuer_not_trusted_for_organisation"
