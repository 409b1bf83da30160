"""`index-service import`: a feed from a file, as the supplying organisation's agency
system, batch by batch, each batch committed with its audit row (the feed's own audit row
with the counts comes last)."""

from __future__ import annotations

import uuid
from typing import IO

from sqlmodel import select

from index_service.access.principal import Principal
from index_service.access.roles import Role
from index_service.alerts.flows import timing_of
from index_service.audit.service import SYSTEM_METHOD, AuditDraft, record_event
from index_service.children.age import AgeLimit
from index_service.database import Database
from index_service.feeds.records import FORMATS, FeedUnreadable
from index_service.feeds.service import FeedReport, FeedRun
from index_service.organisations.models import Organisation
from index_service.settings import Settings

CLI_ISSUER = "index-service:cli"
SUBMIT_ACTION = "child:feed:submit"


def import_file(
    *, db: Database, settings: Settings, organisation_code: str, stream: IO[bytes], kind: str
) -> FeedReport:
    with db.session() as session:
        organisation = session.exec(
            select(Organisation).where(Organisation.code == organisation_code)
        ).first()
        if organisation is None:
            raise LookupError(f"no organisation {organisation_code} in the directory")
        caller = Principal(
            issuer=CLI_ISSUER,
            subject="import",
            name="index-service import",
            email="",
            roles=frozenset({Role.SERVICE_ACCOUNT}),
            organisation_id=organisation.id,
            organisation_code=organisation.code,
            organisation_type=organisation.type,
            local_authority=organisation.local_authority,
        )
        draft = AuditDraft(
            action=SUBMIT_ACTION,
            method=SYSTEM_METHOD,
            route="cli:import",
            request_id=uuid.uuid4().hex,
            instance=settings.instance_name,
            principal=caller,
        )
        run = FeedRun(
            session=session,
            caller=caller,
            draft=draft,
            format=kind,
            channel="cli",
            age_limit=AgeLimit.of(settings),
            timing=timing_of(settings),
        )
        session.commit()
        try:
            run.run(FORMATS[kind](stream), after_batch=lambda _: session.commit())
        except FeedUnreadable:
            # The batches before the unreadable part are applied and committed: say so.
            _close(run, draft, kind, status_code=422)
            raise
        return _close(run, draft, kind, status_code=200)


def _close(run: FeedRun, draft: AuditDraft, kind: str, *, status_code: int) -> FeedReport:
    report = run.finish()
    draft.detail.update(feed_id=str(report.feed_id), format=kind, counts=report.counts)
    record_event(session=run.session, draft=draft, status_code=status_code)
    run.session.commit()
    return report
