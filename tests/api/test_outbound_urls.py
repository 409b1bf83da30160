"""Webhook endpoints and run-time trusted issuers may only point at the public internet:
every spelling of this machine or a private network is refused at registration, with a
422 `url_not_public`, and nothing is stored. (Checked again at connection time: see
tests/alerts/test_delivery.py and tests/api/test_trusted_issuers_api.py.)"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from index_service.database import Database
from index_service.main import create_app
from index_service.settings import Settings
from tests.factories import Factory
from tests.test_outbound import LOOPBACK_FORMS

PUBLIC = {"receiver.agency.example": ["8.8.8.8"], "private.agency.example": ["10.0.0.7"]}


@pytest.fixture
def public_only(settings: Settings, db: Database) -> Iterator[TestClient]:
    """The service as in production: no allowance for this machine or private networks."""
    strict = settings.model_copy(update={"outbound_allow_private": False})
    with TestClient(create_app(strict, db=db), raise_server_exceptions=False) as client:
        yield client


@pytest.fixture(autouse=True)
def _names(monkeypatch: pytest.MonkeyPatch) -> None:
    """What the test's names resolve to (there is no DNS in tests)."""
    real = socket.getaddrinfo

    def dns(host: str, port: Any, *args: Any, **kwargs: Any) -> Any:
        return real(PUBLIC.get(host, [host])[0], port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)


def _admin(factory: Factory) -> dict[str, str]:
    operator = factory.organisation(type="index_operator")
    return factory.headers_for(operator, roles=["administrator"], sub="admin-1")


@pytest.mark.parametrize("url", [*LOOPBACK_FORMS, "https://private.agency.example/hook"])
def test_webhook_endpoint_on_a_loopback_or_private_address_is_refused(
    public_only: TestClient, factory: Factory, url: str
) -> None:
    agency = factory.organisation(type="hospital")
    body = {"organisation_code": agency.code, "url": url}
    refused = public_only.post("/v1/webhook-endpoints", json=body, headers=_admin(factory))
    assert (refused.status_code, refused.json()["code"]) == (422, "url_not_public")
    assert refused.headers["content-type"] == "application/problem+json"
    assert url not in refused.text  # the URL is not echoed
    assert factory.count("webhook_endpoint") == 0
    row = factory.audit_rows()[-1]
    assert (row["action"], row["outcome"]) == ("admin:webhook:register", "refused")


def test_webhook_endpoint_on_an_integer_loopback_address_is_refused(
    public_only: TestClient, factory: Factory
) -> None:
    agency = factory.organisation(type="hospital")
    admin = _admin(factory)
    body = {"organisation_code": agency.code, "url": "https://2130706433/hook"}
    refused = public_only.post("/v1/webhook-endpoints", json=body, headers=admin)
    assert refused.json()["code"] == "url_not_public"
    for url in ("https://receiver.agency.example/hook", "https://8.8.8.8/hook"):
        body = {"organisation_code": agency.code, "url": url}
        accepted = public_only.post("/v1/webhook-endpoints", json=body, headers=admin)
        assert accepted.status_code == 201, accepted.text
    assert factory.count("webhook_endpoint") == 2


@pytest.mark.parametrize("url", [*LOOPBACK_FORMS, "https://private.agency.example/jwks"])
def test_trusted_issuer_keys_on_a_loopback_or_private_address_are_refused(
    public_only: TestClient, factory: Factory, url: str
) -> None:
    agency = factory.organisation(type="hospital")
    body = {"issuer": "https://idp.agency.example", "jwks_url": url, "organisations": [agency.code]}
    refused = public_only.post("/v1/trusted-issuers", json=body, headers=_admin(factory))
    assert (refused.status_code, refused.json()["code"]) == (422, "url_not_public")
    assert factory.count("trusted_issuer") == 0


def test_trusted_issuer_keys_on_a_public_host_are_accepted(
    public_only: TestClient, factory: Factory
) -> None:
    agency = factory.organisation(type="hospital")
    body = {
        "issuer": "https://idp.agency.example",
        "jwks_url": "https://receiver.agency.example/jwks",
        "organisations": [agency.code],
    }
    accepted = public_only.post("/v1/trusted-issuers", json=body, headers=_admin(factory))
    assert accepted.status_code == 201, accepted.text
