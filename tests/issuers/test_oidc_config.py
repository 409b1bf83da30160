"""Claim mapping: the issuer's claims as this service's user, organisation and roles."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from index_service.issuers.oidc_config import ClaimMapping, OidcClient, claim, mapped_roles


def test_roles_as_a_list_are_this_services_role_names_when_unmapped() -> None:
    mapping = ClaimMapping()
    assert mapped_roles(mapping, ["practitioner", "wizard"]) == ["practitioner", "wizard"]
    assert mapped_roles(mapping, "practitioner social_worker") == [
        "practitioner",
        "social_worker",
    ]
    assert mapped_roles(mapping, None) == []


def test_cis2_role_codes_map_by_their_role_part() -> None:
    mapping = ClaimMapping(
        roles="nhsid_nrbac_roles",
        roles_field="role_code",
        role_values={"R8000": "practitioner", "R8001": "practitioner"},
    )
    raw = [
        {"role_code": "S8000:G8000:R8000", "org_code": "RX1"},
        {"role_code": "S0080:G0450:R5080", "org_code": "RX1"},  # not mapped: grants nothing
        "not an object",
    ]
    assert mapped_roles(mapping, raw) == ["practitioner"]


def test_claims_are_read_by_dotted_path() -> None:
    claims = {"org": {"code": "DEMO-EAL-05"}, "sub": "x"}
    assert claim(claims, "org.code") == "DEMO-EAL-05"
    assert claim(claims, "org.missing") is None
    assert claim(claims, "sub.deeper") is None


def test_an_organisation_must_come_from_somewhere() -> None:
    with pytest.raises(ValidationError):
        ClaimMapping(organisation=None)
    assert ClaimMapping(organisation=None, static_organisation="DEMO-EAL-05")


def test_the_secret_is_named_never_given(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValidationError):
        OidcClient.model_validate(
            {
                "display_name": "X",
                "discovery_url": "https://x/",
                "client_id": "c",
                "client_secret": "in clear",
            }
        )
    client = OidcClient(
        display_name="X", discovery_url="https://x/", client_id="c", client_secret_env="OP_SECRET"
    )
    monkeypatch.setenv("OP_SECRET", "from the environment")
    assert client.client_secret() == "from the environment"
