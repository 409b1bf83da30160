"""Settings refuse to start production with development conveniences."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from index_service.settings import Settings, TrustedIssuer

ISSUER = TrustedIssuer(issuer="https://idp.example", jwks_url="https://idp.example/jwks")


def test_production_refuses_the_development_issuer() -> None:
    with pytest.raises(ValidationError, match="DEV_ISSUER_ENABLED must be false"):
        Settings(
            environment="production",
            dev_issuer_enabled=True,
            trusted_issuers=[ISSUER],
            database_url="postgresql://db.example/index",
        )


def test_production_needs_a_trusted_issuer_and_a_database() -> None:
    with pytest.raises(ValidationError, match="TRUSTED_ISSUERS"):
        Settings(
            environment="production",
            dev_issuer_enabled=False,
            database_url="postgresql://db.example/index",
        )
    with pytest.raises(ValidationError, match="DATABASE_URL"):
        Settings(
            environment="production",
            dev_issuer_enabled=False,
            trusted_issuers=[ISSUER],
            database_url=None,  # explicitly: CI sets DATABASE_URL in the environment
        )


def test_production_starts_when_configured_properly() -> None:
    settings = Settings(
        environment="production",
        dev_issuer_enabled=False,
        trusted_issuers=[ISSUER],
        database_url="postgresql://db.example/index",
        audit_signing_key_file="/etc/index-service/audit-signing-key.pem",
        audit_checkpoint_dir="/mnt/audit-checkpoints",
        public_url="https://index.example",
    )
    assert settings.environment == "production"


def test_production_refuses_to_connect_as_the_owner_or_sign_with_a_made_up_key() -> None:
    proper = {
        "environment": "production",
        "dev_issuer_enabled": False,
        "trusted_issuers": [ISSUER],
        "database_url": "postgresql://db.example/index",
    }
    with pytest.raises(ValidationError, match="DATABASE_APP_ROLE"):
        Settings(
            **proper,
            database_app_role=None,
            audit_verify_key_file="/k.pub",
            audit_checkpoint_dir="/mnt/c",
        )
    with pytest.raises(ValidationError, match="AUDIT_CHECKPOINT_DIR"):
        Settings(**proper, audit_verify_key_file="/k.pub")
    with pytest.raises(ValidationError, match="AUDIT_SIGNING_KEY_FILE"):
        Settings(**proper, audit_checkpoint_dir="/mnt/audit-checkpoints")


def test_production_refuses_outbound_connections_to_private_addresses() -> None:
    """OUTBOUND_ALLOW_PRIVATE is a development allowance: off by default in production and
    refused there; on by default elsewhere, for local webhook receivers."""
    proper = {
        "environment": "production",
        "dev_issuer_enabled": False,
        "trusted_issuers": [ISSUER],
        "database_url": "postgresql://db.example/index",
        "audit_verify_key_file": "/k.pub",
        "audit_checkpoint_dir": "/mnt/c",
        "public_url": "https://index.example",
    }
    assert Settings(**proper).outbound_private_allowed is False
    with pytest.raises(ValidationError, match="OUTBOUND_ALLOW_PRIVATE"):
        Settings(**proper, outbound_allow_private=True)
    assert Settings(environment="test").outbound_private_allowed is True


def test_a_trusted_issuer_names_exactly_one_key_source() -> None:
    with pytest.raises(ValidationError, match="exactly one"):
        TrustedIssuer(issuer="https://idp.example")
    with pytest.raises(ValidationError, match="exactly one"):
        TrustedIssuer(issuer="https://idp.example", jwks_url="https://x", jwks_file="keys.json")


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(
        "TRUSTED_ISSUERS", '[{"issuer": "https://idp.example", "jwks_file": "k.json"}]'
    )
    monkeypatch.setenv("MAX_BODY_BYTES", "2048")
    settings = Settings()
    assert settings.trusted_issuers[0].issuer == "https://idp.example"
    assert settings.max_body_bytes == 2048


def test_public_url_defaults_from_port(monkeypatch: pytest.MonkeyPatch) -> None:
    """Alert emails link to PUBLIC_URL: a service run on another port is still linked to,
    unless PUBLIC_URL says where staff reach it."""
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    monkeypatch.setenv("PORT", "9001")
    assert Settings().public_url == "http://127.0.0.1:9001"
    monkeypatch.setenv("PUBLIC_URL", "https://index.example")
    assert Settings().public_url == "https://index.example"


def test_production_needs_public_url(monkeypatch: pytest.MonkeyPatch) -> None:
    """Alert emails link to PUBLIC_URL: in production it is said, never assumed to be
    this machine."""
    monkeypatch.delenv("PUBLIC_URL", raising=False)
    proper = {
        "environment": "production",
        "dev_issuer_enabled": False,
        "trusted_issuers": [ISSUER],
        "database_url": "postgresql://db.example/index",
        "audit_verify_key_file": "/k.pub",
        "audit_checkpoint_dir": "/mnt/c",
    }
    with pytest.raises(ValidationError, match="PUBLIC_URL"):
        Settings(**proper)
    assert Settings(**proper, public_url="https://index.example").public_url


def test_production_refuses_the_development_sign_in_and_has_it_off_by_default() -> None:
    with pytest.raises(ValidationError, match="DEV_SIGN_IN_ENABLED must be false"):
        Settings(
            environment="production",
            dev_issuer_enabled=False,
            dev_sign_in_enabled=True,
            trusted_issuers=[ISSUER],
            database_url="postgresql://db.example/index",
        )
    assert Settings(environment="development").dev_sign_in_enabled is True
    assert Settings(environment="test").dev_sign_in_enabled is False
