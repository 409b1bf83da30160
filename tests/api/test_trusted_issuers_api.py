"""Administrators register an agency's identity provider at run time, bound to the
organisations it may vouch for, and withdraw it; the change holds from the next request."""

from __future__ import annotations

import json
import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from fastapi.testclient import TestClient
from jwt.algorithms import ECAlgorithm

from index_service.database import Database
from index_service.main import create_app
from index_service.settings import DEV_ISSUER, Settings
from tests.factories import PURPOSE, Factory, child_payload

AGENCY_IDP = "https://idp.agency.example"
KEY = ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def agency_keys_url() -> Iterator[str]:
    jwk = {**ECAlgorithm.to_jwk(KEY.public_key(), as_dict=True), "kid": "agency-1", "use": "sig"}
    body = json.dumps({"keys": [jwk]}).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/.well-known/jwks.json"
    server.shutdown()


def _agency_headers(org: str, sub: str = "agency-user") -> dict[str, str]:
    now = int(time.time())
    claims = {
        "iss": AGENCY_IDP,
        "aud": "index-service",
        "sub": sub,
        "name": "Agency User",
        "email": "u@agency.example",
        "org": org,
        "roles": ["service_account"],
        "iat": now,
        "exp": now + 600,
    }
    token = jwt.encode(claims, KEY, algorithm="ES256", headers={"kid": "agency-1"})
    return {"Authorization": f"Bearer {token}", **PURPOSE}


def _admin(factory: Factory) -> dict[str, str]:
    operator = factory.organisation(type="index_operator")
    return factory.headers_for(operator, roles=["administrator"], sub="admin-1")


def test_a_registered_issuer_is_trusted_for_its_organisations_until_withdrawn(
    client: TestClient, factory: Factory, agency_keys_url: str
) -> None:
    admin = _admin(factory)
    own = factory.organisation(type="hospital")
    other = factory.organisation(type="hospital")
    unknown = client.post("/v1/children", json=child_payload(), headers=_agency_headers(own.code))
    assert unknown.json()["code"] == "issuer_not_trusted"
    registered = client.post(
        "/v1/trusted-issuers",
        json={"issuer": AGENCY_IDP, "jwks_url": agency_keys_url, "organisations": [own.code]},
        headers=admin,
    )
    assert registered.status_code == 201, registered.text
    accepted = client.post("/v1/children", json=child_payload(), headers=_agency_headers(own.code))
    assert accepted.status_code == 201, accepted.text
    stranger = client.post(
        "/v1/children", json=child_payload(), headers=_agency_headers(other.code)
    )
    assert (stranger.status_code, stranger.json()["code"]) == (
        403,
        "issuer_not_trusted_for_organisation",
    )
    refused_row = factory.audit_rows()[-1]
    assert refused_row["detail"]["claimed"] == {
        "iss": AGENCY_IDP,
        "sub": "agency-user",
        "org": other.code,
    }
    withdrawn = client.delete(f"/v1/trusted-issuers/{registered.json()['id']}", headers=admin)
    assert withdrawn.json()["withdrawn_by"].endswith("admin-1")
    after = client.post("/v1/children", json=child_payload(), headers=_agency_headers(own.code))
    assert (after.status_code, after.json()["code"]) == (401, "issuer_not_trusted")
    listed = client.get("/v1/trusted-issuers", headers=admin).json()["items"]
    assert [(i["issuer"], i["withdrawn_at"] is not None) for i in listed] == [(AGENCY_IDP, True)]


@pytest.mark.parametrize(
    ("body", "status"),
    [
        pytest.param({"issuer": AGENCY_IDP, "jwks_url": "http://idp.example/k"}, 422, id="http"),
        pytest.param({"issuer": AGENCY_IDP, "jwks_url": "file:///etc/keys"}, 422, id="file"),
        pytest.param({"issuer": "", "jwks_url": "https://idp.example/k"}, 422, id="no issuer"),
        pytest.param(
            {"issuer": AGENCY_IDP, "jwks_url": "https://idp.example/k", "trusted": True},
            422,
            id="unknown field",
        ),
        pytest.param(
            {"issuer": DEV_ISSUER, "jwks_url": "https://idp.example/k", "organisations": ["H1"]},
            409,
            id="configured",
        ),
    ],
)
def test_bad_registrations_are_refused(
    client: TestClient, factory: Factory, body: dict[str, Any], status: int
) -> None:
    response = client.post("/v1/trusted-issuers", json=body, headers=_admin(factory))
    assert response.status_code == status, response.text
    assert factory.count("trusted_issuer") == 0


def test_only_administrators_manage_issuers(client: TestClient, factory: Factory) -> None:
    body = {"issuer": AGENCY_IDP, "jwks_url": "https://idp.example/k"}
    response = client.post("/v1/trusted-issuers", json=body, headers=factory.data_manager())
    assert response.status_code == 403
    assert client.get("/v1/trusted-issuers", headers=factory.data_manager()).status_code == 403
    assert factory.count("trusted_issuer") == 0


def test_an_issuer_cannot_be_registered_for_social_care_or_the_operator(
    client: TestClient, factory: Factory
) -> None:
    """Else an administrator could mint data managers (or administrators) for themselves."""
    admin = _admin(factory)
    for kind in ("childrens_social_care", "index_operator"):
        code = factory.organisation(type=kind).code
        body = {"issuer": AGENCY_IDP, "jwks_url": "https://idp.example/k", "organisations": [code]}
        refused = client.post("/v1/trusted-issuers", json=body, headers=admin)
        assert (refused.status_code, refused.json()["code"]) == (
            403,
            "organisation_needs_configured_issuer",
        )
    unknown = {
        "issuer": AGENCY_IDP,
        "jwks_url": "https://idp.example/k",
        "organisations": ["NOPE1"],
    }
    assert client.post("/v1/trusted-issuers", json=unknown, headers=admin).status_code == 422
    no_orgs = {"issuer": AGENCY_IDP, "jwks_url": "https://idp.example/k", "organisations": []}
    assert client.post("/v1/trusted-issuers", json=no_orgs, headers=admin).status_code == 422
    assert factory.count("trusted_issuer") == 0


def test_trusted_issuer_keys_at_a_name_that_now_resolves_to_loopback_are_not_fetched(
    settings: Settings, db: Database, factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """DNS rebinding: the key set's host was public when the issuer was registered and
    points at this machine when a token arrives. Without the development allowance the
    fetch vets the address it connects to: nothing reaches the listener on 127.0.0.1 and
    the token is refused with 503 `issuer_keys_unavailable`."""
    strict = settings.model_copy(update={"outbound_allow_private": False})
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()
    listener.settimeout(0.5)
    port = listener.getsockname()[1]
    points_at = {"keys.agency.example": "8.8.8.8"}
    real_getaddrinfo = socket.getaddrinfo

    def dns(host: str, p: Any, *args: Any, **kwargs: Any) -> Any:
        return real_getaddrinfo(points_at.get(host, host), p, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", dns)
    own = factory.organisation(type="hospital")
    body = {
        "issuer": AGENCY_IDP,
        "jwks_url": f"https://keys.agency.example:{port}/jwks.json",
        "organisations": [own.code],
    }
    with TestClient(create_app(strict, db=db), raise_server_exceptions=False) as client:
        registered = client.post("/v1/trusted-issuers", json=body, headers=_admin(factory))
        assert registered.status_code == 201, registered.text
        points_at["keys.agency.example"] = "127.0.0.1"
        try:
            refused = client.post(
                "/v1/children", json=child_payload(), headers=_agency_headers(own.code)
            )
            assert (refused.status_code, refused.json()["code"]) == (
                503,
                "issuer_keys_unavailable",
            )
            with pytest.raises(TimeoutError):
                listener.accept()
        finally:
            listener.close()
