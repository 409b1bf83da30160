"""The web pages' server-side state, in PostgreSQL so every instance shares it and an
administrator's suspension or a sign-out ends it at once.

- `web_session`: one signed-in browser. Its id is never stored, only its SHA-256 (a read of
  the table gives nobody a cookie). It keeps the identity the issuer vouched for (the
  claims, turned into a `Principal` again at every request so a suspension or an
  organisation's withdrawal tells at the next page), the CSRF secret of its forms, when it
  began and was last used (idle and absolute timeouts), and the purpose stated for the
  current piece of work.
- `web_sign_in`: an OpenID Connect sign-in under way (state, nonce and PKCE verifier),
  used once, kept for minutes.
- `web_page`: what an audited page request disclosed (the API answer it rendered), kept
  with its session so the page it redirects to can show it without disclosing it again;
  gone with the session.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Column, DateTime, ForeignKey, String
from sqlalchemy.dialects.postgresql import JSONB
from sqlmodel import Field as SQLField
from sqlmodel import SQLModel

from index_service.common import new_id, utcnow


class WebSession(SQLModel, table=True):
    __tablename__ = "web_session"

    id_hash: str = SQLField(sa_column=Column(String(64), primary_key=True))
    issuer: str = SQLField(max_length=300)
    subject: str = SQLField(max_length=300)
    name: str = SQLField(max_length=300)
    email: str = SQLField(max_length=300)
    organisation_code: str = SQLField(max_length=16, index=True)
    roles: list[str] = SQLField(
        default_factory=list, sa_column=Column(ARRAY(String(40)), nullable=False)
    )
    signed_in_with: str = SQLField(max_length=20)  # "oidc" or "development"
    csrf_secret: str = SQLField(max_length=64)
    purpose: str | None = SQLField(default=None, max_length=40)
    purpose_text: str | None = SQLField(default=None, max_length=200)
    created_at: datetime = SQLField(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
    last_seen_at: datetime = SQLField(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class WebSignIn(SQLModel, table=True):
    __tablename__ = "web_sign_in"

    state_hash: str = SQLField(sa_column=Column(String(64), primary_key=True))
    issuer: str = SQLField(max_length=300)
    nonce: str = SQLField(max_length=128)
    code_verifier: str = SQLField(max_length=128)
    created_at: datetime = SQLField(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )


class WebPage(SQLModel, table=True):
    __tablename__ = "web_page"

    id: uuid.UUID = SQLField(default_factory=new_id, primary_key=True)
    session_hash: str = SQLField(
        sa_column=Column(
            String(64),
            ForeignKey("web_session.id_hash", ondelete="CASCADE"),
            nullable=False,
            index=True,
        )
    )
    key: str = SQLField(max_length=200)
    body: dict[str, Any] = SQLField(default_factory=dict, sa_column=Column(JSONB, nullable=False))
    created_at: datetime = SQLField(
        default_factory=utcnow, sa_column=Column(DateTime(timezone=True), nullable=False)
    )
