"""The local development issuer: an ES256 key under the data directory, created on
first use, trusted only while DEV_ISSUER_ENABLED is true (never in production)."""

from __future__ import annotations

import os
import time
from typing import Any

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm

from index_service.settings import DEV_ISSUER, Settings

DEV_KEY_ID = "local-dev-1"


def ensure_dev_key(settings: Settings) -> ec.EllipticCurvePrivateKey:
    path = settings.dev_key_path
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        key = ec.generate_private_key(ec.SECP256R1())
        pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as handle:
            handle.write(pem)
    loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(loaded, ec.EllipticCurvePrivateKey):
        raise ValueError(f"{path} is not an EC private key")
    return loaded


def dev_public_jwks(settings: Settings) -> dict[str, Any]:
    public = ensure_dev_key(settings).public_key()
    jwk: dict[str, Any] = ECAlgorithm.to_jwk(public, as_dict=True)
    jwk.update({"kid": DEV_KEY_ID, "use": "sig", "alg": "ES256"})
    return {"keys": [jwk]}


def mint_dev_token(
    settings: Settings,
    *,
    subject: str,
    name: str,
    email: str,
    organisation: str,
    roles: list[str],
    ttl_seconds: int = 3600,
) -> str:
    """A token from the development issuer, for local use and tests."""
    now = int(time.time())
    claims = {
        "iss": DEV_ISSUER,
        "aud": settings.token_audience,
        "sub": subject,
        "name": name,
        "email": email,
        "org": organisation,
        "roles": roles,
        "iat": now,
        "nbf": now,
        "exp": now + ttl_seconds,
    }
    return jwt.encode(
        claims, ensure_dev_key(settings), algorithm="ES256", headers={"kid": DEV_KEY_ID}
    )
