"""How the pages sign people in through an issuer: its OpenID Connect client settings and
its claim mapping. The same model configures an issuer in settings (`TRUSTED_ISSUERS`'
`oidc`) and one an administrator registers (`POST /v1/trusted-issuers` with `oidc`).

The client secret is never stored: only the name of an environment variable or the path
of a file that holds it, read when a sign-in needs it.

Claim mapping: which claims of the ID token (or the userinfo answer) give the user id,
name, email, organisation code and roles. An issuer that vouches for one organisation only
names it (`static_organisation`) instead of a claim. Roles may be a list of strings, one
string of space- or comma-separated values, or a list of objects whose `roles_field`
holds the value (NHS CIS2's `nhsid_nrbac_roles` with `role_code`). `role_values` maps the
issuer's values to this service's roles; a CIS2 code such as `S8000:G8000:R8000` is
looked up whole first and then by each of its colon-separated parts, so `R8000` maps it.
Values mapped to nothing grant nothing (deny by default)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from index_service.access.roles import Role

MAX_ROLES = 20


def _claim_path(value: str) -> str:
    if not value or len(value) > 100 or any(not p for p in value.split(".")):
        raise ValueError("a claim name, or dotted path such as 'org.code'")
    return value


ClaimPath = Annotated[str, AfterValidator(_claim_path)]


class ClaimMapping(BaseModel):
    model_config = ConfigDict(extra="forbid")

    subject: ClaimPath = "sub"
    name: ClaimPath = "name"
    email: ClaimPath = "email"
    organisation: ClaimPath | None = Field(
        default="org", description="The claim holding the organisation's code."
    )
    static_organisation: str | None = Field(
        default=None,
        max_length=16,
        description="For an issuer that vouches for one organisation: its code (then "
        "`organisation` is not read).",
    )
    roles: ClaimPath = "roles"
    roles_field: str | None = Field(
        default=None,
        max_length=60,
        description="When the roles claim is a list of objects: the key holding each value "
        "(CIS2: 'role_code').",
    )
    role_values: dict[str, Role] = Field(
        default_factory=dict,
        max_length=200,
        description="The issuer's role values and the role each means here. Empty: the "
        "values are this service's role names.",
    )

    @model_validator(mode="after")
    def _an_organisation(self) -> ClaimMapping:
        if self.organisation is None and self.static_organisation is None:
            raise ValueError("give the organisation claim or a static_organisation")
        return self


class OidcClient(BaseModel):
    """An issuer's OpenID Connect client registration, as this service uses it."""

    model_config = ConfigDict(extra="forbid")

    display_name: str = Field(
        min_length=1, max_length=100, description="Shown on the sign-in button."
    )
    discovery_url: str = Field(
        min_length=8,
        max_length=500,
        description="Its /.well-known/openid-configuration (https; plain http only on "
        "loopback, outside production).",
    )
    client_id: str = Field(min_length=1, max_length=200)
    client_secret_env: str | None = Field(
        default=None,
        max_length=100,
        pattern=r"^[A-Z_][A-Z0-9_]*$",
        description="The environment variable that holds the client secret.",
    )
    client_secret_file: str | None = Field(
        default=None, max_length=500, description="A file that holds the client secret."
    )
    scopes: list[str] = Field(default_factory=lambda: ["openid", "profile", "email"])
    claims: ClaimMapping = Field(default_factory=ClaimMapping)

    @model_validator(mode="after")
    def _one_secret_source(self) -> OidcClient:
        if self.client_secret_env is not None and self.client_secret_file is not None:
            raise ValueError("give client_secret_env or client_secret_file, not both")
        if "openid" not in self.scopes:
            raise ValueError("scopes must include 'openid'")
        return self

    def client_secret(self) -> str | None:
        """Read where it is kept, when needed (None: a public client, PKCE only)."""
        if self.client_secret_env is not None:
            return os.environ.get(self.client_secret_env) or None
        if self.client_secret_file is not None:
            return Path(self.client_secret_file).read_text().strip() or None
        return None


def claim(claims: dict[str, Any], path: str) -> Any:
    """The value at a dotted path of the claims, or None."""
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, dict):
            return None
        value = value.get(part)
    return value


def mapped_roles(mapping: ClaimMapping, raw: Any) -> list[str]:
    """This service's role names for the issuer's role claim value (see the module doc)."""
    if isinstance(raw, str):
        values = [v for v in raw.replace(",", " ").split() if v]
    elif isinstance(raw, list):
        values = []
        for item in raw[: MAX_ROLES * 5]:
            if isinstance(item, dict) and mapping.roles_field:
                item = item.get(mapping.roles_field)
            if isinstance(item, str):
                values.append(item)
    else:
        values = []
    if not mapping.role_values:
        return list(dict.fromkeys(values))[:MAX_ROLES]
    roles: list[str] = []
    for value in values:
        for candidate in (value, *value.split(":")):
            if candidate in mapping.role_values:
                roles.append(mapping.role_values[candidate].value)
                break
    return list(dict.fromkeys(roles))[:MAX_ROLES]
