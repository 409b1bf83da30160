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


def test_signing_out_when_the_provider_is_out_of_reach_still_ends_the_session_here(
    settings: Settings, db: Database, factory: Factory
) -> None:
    """The provider's end-session endpoint is where a session from it is ended too; if
    its discovery document cannot be fetched, the session here is ended all the same
    and the user lands on the signed-out page (never an error, never still signed in)."""
    from fastapi.testclient import TestClient

    from index_service.main import create_app
    from index_service.settings import TrustedIssuer
    from index_service.web.oidc import OidcIssuer
    from tests.web.browser import free_ports, trusted_issuer
    from tests.web.test_pages import csrf

    (closed,) = free_ports(1)
    gone = f"http://127.0.0.1:{closed}"
    configured = TrustedIssuer.model_validate(trusted_issuer(gone, ["DEMO-EAL-05"]))
    app = create_app(
        settings.model_copy(update={"trusted_issuers": [*settings.trusted_issuers, configured]}),
        db=db,
    )
    factory.organisation(type="emergency_department", code="DEMO-EAL-05")
    claims = VerifiedClaims(
        issuer=gone,
        subject="ed-doctor-9",
        name="Dr Test",
        email="dr.test@trust.example",
        organisation_code="DEMO-EAL-05",
        roles=["practitioner"],
    )
    with db.transaction() as session:
        token = sessions.start(session=session, claims=claims, signed_in_with="oidc")
    with TestClient(
        app, base_url="https://testserver", raise_server_exceptions=True, follow_redirects=False
    ) as client:
        client.cookies.set(sessions.SESSION_COOKIE, token)
        shown = client.get("/purpose")
        assert shown.status_code == 200, shown.text
        out = client.post("/sign-out", data={"csrf_token": csrf(shown.text)})
        key = OidcIssuer(
            issuer=gone,
            client=configured.oidc,
            organisations=None,
            vetted=False,  # type: ignore[arg-type]
        ).key
        assert out.headers["location"] == f"/signed-out?provider={key}"
        assert factory.count("web_session") == 0
        onward = client.get(out.headers["location"])
        assert onward.status_code == 303
        assert onward.headers["location"] == "/sign-in?signed_out=signed_out"
