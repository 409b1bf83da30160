"""Page sessions: made at sign-in, found by the cookie at every request, ended by signing
out, by a timeout, or by a suspension (the next request finds the user suspended and ends
the session before anything is shown).

The cookie holds a random token; the table holds only its SHA-256, so the table's
contents open no session. Every form carries the session's CSRF token (a synchroniser
token), compared in constant time."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlmodel import Session, col, delete, select

from index_service.access.purpose import Purpose, PurposeCode
from index_service.access.tokens import VerifiedClaims
from index_service.common import utcnow
from index_service.settings import Settings
from index_service.web.models import WebPage, WebSession, WebSignIn

SESSION_COOKIE = "__Host-session"
SIGN_IN_COOKIE = "__Host-sign-in"  # an OpenID Connect sign-in under way, and pre-sign-in forms
SIGN_IN_MINUTES = 10
PAGES_KEPT = 10


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def new_token() -> str:
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Timeouts:
    idle: timedelta
    absolute: timedelta


def timeouts_of(settings: Settings) -> Timeouts:
    """The session timeouts the settings give."""
    return Timeouts(
        idle=timedelta(minutes=settings.web_session_idle_minutes),
        absolute=timedelta(hours=settings.web_session_absolute_hours),
    )


def start(*, session: Session, claims: VerifiedClaims, signed_in_with: str) -> str:
    """A new session for the identity the issuer vouched for; its cookie token."""
    token = new_token()
    session.add(
        WebSession(
            id_hash=token_hash(token),
            issuer=claims.issuer,
            subject=claims.subject,
            name=claims.name,
            email=claims.email,
            organisation_code=claims.organisation_code,
            roles=list(claims.roles),
            signed_in_with=signed_in_with,
            csrf_secret=new_token(),
        )
    )
    session.flush()
    return token


def find(*, session: Session, token: str | None, timeouts: Timeouts) -> WebSession | None:
    """The live session the cookie names, seen now; None (and the session ended) if it
    has been idle or open too long."""
    if not token or len(token) > 100:
        return None
    row = session.get(WebSession, token_hash(token), with_for_update=True)
    if row is None:
        return None
    now = utcnow()
    if now - row.last_seen_at > timeouts.idle or now - row.created_at > timeouts.absolute:
        end(session=session, row=row)
        return None
    row.last_seen_at = now
    session.add(row)
    session.flush()
    return row


def claims_of(row: WebSession) -> VerifiedClaims:
    return VerifiedClaims(
        issuer=row.issuer,
        subject=row.subject,
        name=row.name,
        email=row.email,
        organisation_code=row.organisation_code,
        roles=list(row.roles),
    )


def end(*, session: Session, row: WebSession) -> None:
    """Sign out: the session and every page it kept are gone at once."""
    session.exec(delete(WebSession).where(col(WebSession.id_hash) == row.id_hash))
    session.flush()


def csrf_matches(row: WebSession, sent: str | None) -> bool:
    return bool(sent) and hmac.compare_digest(row.csrf_secret.encode(), str(sent).encode())


def state_purpose(*, session: Session, row: WebSession, purpose: Purpose) -> None:
    """The purpose of the current piece of work, kept until it is changed or the session
    ends; every page that shows child data is recorded with it."""
    row.purpose, row.purpose_text = purpose.code.value, purpose.text
    session.add(row)
    session.flush()


def purpose_of(row: WebSession) -> Purpose | None:
    if row.purpose is None or row.purpose_text is None:
        return None
    return Purpose(code=PurposeCode(row.purpose), text=row.purpose_text)


def keep_page(*, session: Session, session_hash: str, key: str, body: dict[str, Any]) -> None:
    """Keep what an audited request disclosed, for the page it redirects to (the newest
    few only)."""
    session.add(WebPage(session_hash=session_hash, key=key, body=body))
    session.flush()
    stale = session.exec(
        select(WebPage.id)
        .where(col(WebPage.session_hash) == session_hash)
        .order_by(col(WebPage.created_at).desc())
        .offset(PAGES_KEPT)
    ).all()
    if stale:
        session.exec(delete(WebPage).where(col(WebPage.id).in_(stale)))


def kept_page(*, session: Session, session_hash: str, key: str) -> dict[str, Any] | None:
    row = session.exec(
        select(WebPage)
        .where(col(WebPage.session_hash) == session_hash, col(WebPage.key) == key)
        .order_by(col(WebPage.created_at).desc())
        .limit(1)
    ).first()
    return row.body if row is not None else None


def begin_sign_in(*, session: Session, issuer: str, state: str, nonce: str, verifier: str) -> None:
    session.add(
        WebSignIn(state_hash=token_hash(state), issuer=issuer, nonce=nonce, code_verifier=verifier)
    )
    session.flush()


def take_sign_in(*, session: Session, state: str) -> WebSignIn | None:
    """The sign-in this state began, used once: removed as it is read; None if unknown or
    older than `SIGN_IN_MINUTES`."""
    row = session.get(WebSignIn, token_hash(state), with_for_update=True)
    if row is None:
        return None
    session.delete(row)
    session.flush()
    if utcnow() - row.created_at > timedelta(minutes=SIGN_IN_MINUTES):
        return None
    return row


def forget_stale(*, session: Session, now: datetime, timeouts: Timeouts) -> None:
    """Sessions past their timeouts and abandoned sign-ins (run now and then)."""
    session.exec(
        delete(WebSession).where(
            (col(WebSession.last_seen_at) < now - timeouts.idle)
            | (col(WebSession.created_at) < now - timeouts.absolute)
        )
    )
    session.exec(
        delete(WebSignIn).where(
            col(WebSignIn.created_at) < now - timedelta(minutes=SIGN_IN_MINUTES)
        )
    )
