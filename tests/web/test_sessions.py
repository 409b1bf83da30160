"""Sessions past their timeouts are forgotten by the worker, with the pages they kept (a
copy of what an audited page disclosed), not left until the cookie comes back."""

from __future__ import annotations

import threading
from datetime import timedelta

from sqlalchemy import text

from index_service.access.tokens import VerifiedClaims
from index_service.cli import _worker_hooks
from index_service.common import utcnow
from index_service.database import Database
from index_service.settings import DEV_ISSUER, Settings
from index_service.web import sessions
from index_service.web.models import WebPage
from tests.factories import Factory


def _claims(subject: str) -> VerifiedClaims:
    return VerifiedClaims(
        issuer=DEV_ISSUER,
        subject=subject,
        name="Test User",
        email=f"{subject}@test.example",
        organisation_code="DEMO-EAL-05",
        roles=["practitioner"],
    )


def test_the_worker_forgets_stale_sessions_and_the_pages_they_kept(
    db: Database, settings: Settings, factory: Factory, sealer_db: Database
) -> None:
    with db.transaction() as session:
        stale = sessions.start(session=session, claims=_claims("gone"), signed_in_with="test")
        live = sessions.start(session=session, claims=_claims("here"), signed_in_with="test")
    idle = settings.web_session_idle_minutes
    with db.transaction() as session:
        for token in (stale, live):
            session.add(WebPage(session_hash=sessions.token_hash(token), key="k", body={"a": 1}))
        session.execute(
            text("UPDATE web_session SET last_seen_at = :then WHERE id_hash = :hash"),
            {"then": utcnow() - timedelta(minutes=idle + 1), "hash": sessions.token_hash(stale)},
        )
    hooks = _worker_hooks(db, sealer_db, settings, threading.Event())
    (forget,) = [hook for hook in hooks if getattr(hook, "__name__", "") == "stale_web_sessions"]
    forget(utcnow())
    assert factory.count("web_session") == 1
    assert factory.count("web_page") == 1
    with db.session() as session:
        assert sessions.find(session=session, token=live, timeouts=sessions.timeouts_of(settings))
