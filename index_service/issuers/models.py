"""Trusted issuers registered by administrators at run time (in addition to those in
settings): an agency's identity provider, where its keys are published, and the
organisations it may vouch for."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import ARRAY, Column, DateTime, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from index_service.common import Text300, new_id, utcnow
from index_service.issuers.oidc_config import OidcClient
from index_service.organisations.models import OrganisationCode
from index_service.settings import safe_key_url


class TrustedIssuerRecord(SQLModel, table=True):
    __tablename__ = "trusted_issuer"

    id: uuid.UUID = SQLField(default_factory=new_id, primary_key=True)
    issuer: str = SQLField(sa_column=Column(String(300), unique=True, nullable=False))
    jwks_url: str = SQLField(max_length=500)
    organisations: list[str] | None = SQLField(
        default=None, sa_column=Column(ARRAY(String(16)), nullable=True)
    )
    # The pages' OpenID Connect client and claim mapping (`OidcClient`), or null: the
    # issuer's tokens are accepted by the API, nobody signs in to the pages through it.
    oidc: dict[str, Any] | None = SQLField(default=None, sa_column=Column(JSONB, nullable=True))
    registered_by: str = SQLField(max_length=620)
    registered_at: datetime = SQLField(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    withdrawn_by: str | None = SQLField(default=None, max_length=620)
    withdrawn_at: datetime | None = SQLField(
        default=None, sa_column=Column(DateTime(timezone=True), nullable=True)
    )


def _key_url(value: str) -> str:
    if not safe_key_url(value):
        raise ValueError("must be https (plain http only on loopback)")
    return value


class TrustedIssuerCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    issuer: Text300 = Field(description="The `iss` its tokens carry.")
    jwks_url: Annotated[str, Field(min_length=8, max_length=500), AfterValidator(_key_url)]
    organisations: list[OrganisationCode] = Field(
        min_length=1,
        max_length=2000,
        description="Codes of the participating organisations it may vouch for. Identity "
        "providers of children's social care and of the index operator are configured in "
        "settings only, never registered at run time.",
    )
    oidc: OidcClient | None = Field(
        default=None,
        description="To let the organisations' staff sign in to the pages through this "
        "issuer: its OpenID Connect client (the secret named by an environment variable "
        "or a file, never sent here) and how its claims map to user, organisation and roles.",
    )

    @model_validator(mode="after")
    def _discovery_url(self) -> TrustedIssuerCreate:
        if self.oidc is not None:
            _key_url(self.oidc.discovery_url)
        return self


class TrustedIssuerPublic(BaseModel):
    id: uuid.UUID
    issuer: str
    jwks_url: str
    organisations: list[str] | None
    oidc: OidcClient | None = None
    registered_by: str
    registered_at: datetime
    withdrawn_by: str | None
    withdrawn_at: datetime | None
