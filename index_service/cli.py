"""`index-service`: serve, run, worker, migrate, token, seed-demo, demo, openapi,
add-organisation, import, audit seal, audit verify."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from index_service.access.roles import Role
from index_service.organisations.models import OrganisationType
from index_service.settings import Settings, get_settings

if TYPE_CHECKING:
    import threading

    from index_service.database import Database

# Tracebacks never show local variables: they could hold a child's details.
app = typer.Typer(
    no_args_is_help=True,
    help="Children's information-sharing index service.",
    pretty_exceptions_show_locals=False,
)
audit_app = typer.Typer(no_args_is_help=True, help="The tamper-evident audit trail.")
app.add_typer(audit_app, name="audit")


@app.callback()
def _configure() -> None:
    """Every command logs JSON lines through structlog, as the server does; one started by
    `run` dies with it (`processes/lifeline.py`)."""
    from index_service.logging import configure_logging
    from index_service.processes.lifeline import follow_supervisor

    follow_supervisor()
    configure_logging(get_settings().log_level)


Workers = Annotated[
    int | None,
    typer.Option(
        min=1,
        help="Server processes behind the one socket (default: SERVE_WORKERS or "
        "WEB_CONCURRENCY, else the CPU count). 1: a single process, no supervisor.",
    ),
]


@app.command()
def serve(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: PORT setting, 8000).")] = None,
    workers: Workers = None,
) -> None:
    """Serve the API until SIGINT, SIGTERM or SIGHUP. Refuses to start if the database
    schema is behind the code."""
    from index_service.main import SchemaBehind, UnsafeRole
    from index_service.processes.server import default_workers
    from index_service.processes.server import serve as serve_until_stopped

    settings = get_settings()
    try:
        code = serve_until_stopped(
            host=host,
            port=port or settings.port,
            workers=workers or default_workers(settings),
            settings=settings,
        )
    except (SchemaBehind, UnsafeRole) as refused:
        typer.echo(f"index-service serve: {refused}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


@app.command()
def run(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int | None, typer.Option(help="Port (default: PORT setting, 8000).")] = None,
    workers: Workers = None,
) -> None:
    """Serve the API and run the alert worker beside it (what `make run` starts) until
    SIGINT, SIGTERM or SIGHUP, or until either ends (then the other is stopped too)."""
    from index_service.processes.run import run as run_until_stopped

    options = ["--host", host]
    if port is not None:
        options += ["--port", str(port)]
    if workers is not None:
        options += ["--workers", str(workers)]
    raise typer.Exit(run_until_stopped(settings=get_settings(), serve_options=options))


@app.command()
def worker(
    name: Annotated[
        str | None, typer.Option(help="Worker name in attempt records (default: host:pid).")
    ] = None,
) -> None:
    """Send queued alert emails and webhooks, and run the scheduled alert checks, until
    Ctrl-C, SIGTERM or SIGHUP. Several workers may run at once."""
    import os
    import signal
    import socket
    import threading

    from index_service.alerts.delivery import run_worker
    from index_service.alerts.wakeup import Wakeup
    from index_service.database import service_database_url
    from index_service.main import connect, connect_sealer

    settings = get_settings()
    worker_name = name or f"{settings.instance_name}@{socket.gethostname()}:{os.getpid()}"
    stop = threading.Event()
    db = connect(settings)
    sealer_db = connect_sealer(settings)
    signals = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)  # Ctrl-C, kill, closed terminal
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in signals}
    try:
        run_worker(
            db=db,
            settings=settings,
            worker_name=worker_name[:100],
            stop=stop,
            tick_hooks=_worker_hooks(db, sealer_db, settings, stop),
            wakeup=Wakeup(service_database_url(settings)),
        )
    finally:
        db.close()
        sealer_db.close()
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _worker_hooks(
    db: Database, sealer_db: Database, settings: Settings, stop: threading.Event
) -> list[Callable[[datetime], None]]:
    """What the worker runs after each batch of deliveries, each called with the time:
    the scheduled alert checks (R7 shielded access, R6 escalations, expired enquiry-only
    contacts) and the records' lifecycle (archive at the age limit, destroy after the
    retention period), stale web sessions, the audit trail's retention (partitions ahead,
    personal parts past retention erased), then the audit sealer (chain the committed
    events, sign a checkpoint)."""
    from index_service.alerts import scheduler
    from index_service.audit.retention import Retention
    from index_service.audit.sealer import Sealer

    sealer = Sealer(sealer_db, settings, stop)
    retention = Retention(db, settings)

    def scheduled(now: datetime) -> None:
        scheduler.tick(db=db, settings=settings, now=now)

    def stale_web_sessions(now: datetime) -> None:
        """Sessions past their timeouts go, with the pages they kept (a copy of what an
        audited page disclosed): not left until someone presents the cookie again."""
        from index_service.web import sessions

        with db.transaction() as session:
            sessions.forget_stale(session=session, now=now, timeouts=sessions.timeouts_of(settings))

    return [scheduled, stale_web_sessions, retention.tick, sealer.tick]


@audit_app.command("seal")
def audit_seal() -> None:
    """Chain every committed audit event now and sign a checkpoint of the head (the worker
    does this every tick)."""
    from index_service.audit import checkpoints
    from index_service.audit.sealer import BrokenHead, Sealer
    from index_service.common import utcnow
    from index_service.main import connect_sealer

    settings = get_settings()
    db = connect_sealer(settings)
    try:
        Sealer(db, settings).tick(utcnow())  # the first tick always checkpoints a moved head
    except BrokenHead as broken:
        typer.echo(str(broken), err=True)
        raise typer.Exit(1) from None
    finally:
        db.close()
    newest = checkpoints.latest(settings.checkpoint_dir)
    typer.echo(f"sealed; newest checkpoint at position {newest.position if newest else 0}")


@audit_app.command("verify")
def audit_verify(
    incremental: Annotated[
        bool, typer.Option(help="Only what was sealed after the newest good checkpoint.")
    ] = False,
    period: Annotated[
        str | None,
        typer.Option(help="Only one month's events (YYYY-MM), from the checkpoint before it."),
    ] = None,
) -> None:
    """Check the audit chain and every checkpoint's signature. Prints the report as JSON
    and exits 1 naming the first bad event if anything is wrong."""
    import json
    from datetime import datetime

    from index_service.audit.verify import run_verify
    from index_service.main import connect

    month = None
    if period is not None:
        try:
            month = datetime.strptime(period, "%Y-%m").date()
        except ValueError:
            typer.echo(f"--period {period!r} is not a month (YYYY-MM)", err=True)
            raise typer.Exit(2) from None
    settings = get_settings()
    db = connect(settings)
    try:
        report = run_verify(db=db, settings=settings, incremental=incremental, period=month)
    finally:
        db.close()
    typer.echo(json.dumps(report.as_dict(), indent=2))
    if not report.ok:
        first = report.first_bad
        assert first is not None
        typer.echo(f"audit chain NOT intact: {first.kind}: {first.message}", err=True)
        raise typer.Exit(code=1)
    checked = f"{report.events_checked} events and {report.checkpoints_checked} checkpoints checked"
    if report.events_checked == 0 and report.unsealed_events > 0:
        typer.echo(
            f"audit chain NOT verified: {checked}, but {report.unsealed_events} events are "
            "unsealed: is the sealer running? (`index-service audit seal` seals them now)",
            err=True,
        )
        raise typer.Exit(code=1)
    typer.echo(f"audit chain intact: {checked}", err=True)


@audit_app.command("erase")
def audit_erase() -> None:
    """Erase the personal part of audit events older than AUDIT_PERSONAL_RETENTION_DAYS now,
    and make the coming months' partitions (the worker does both every
    AUDIT_RETENTION_INTERVAL_SECONDS). Prints how many were erased: a count, nothing more."""
    from index_service.audit.retention import ensure_partitions, erase_personal
    from index_service.common import utcnow
    from index_service.main import connect

    settings = get_settings()
    db = connect(settings)
    try:
        now = utcnow()
        ensure_partitions(db, now)
        erased = erase_personal(db, settings, now)
    finally:
        db.close()
    typer.echo(f"erased the personal part of {erased} audit events")


@app.command()
def migrate() -> None:
    """Bring the database schema to head (Alembic)."""
    from alembic import command

    from index_service.database import resolve_database_url
    from index_service.migrations_state import alembic_config

    command.upgrade(alembic_config(resolve_database_url(get_settings())), "head")
    typer.echo("database schema is at head")


@app.command()
def token(
    sub: Annotated[str, typer.Option(help="Subject: the user's id at their identity provider.")],
    name: Annotated[str, typer.Option(help="The user's display name.")],
    org: Annotated[
        str, typer.Option(help="Code of the user's organisation (must exist, e.g. DEMO-EAL-01).")
    ],
    role: Annotated[
        list[Role],
        typer.Option(help=f"A role; repeat for several. One of: {', '.join(Role)}."),
    ],
    email: Annotated[str | None, typer.Option(help="Default: SUB@ORG.example.")] = None,
    ttl: Annotated[int, typer.Option(min=60, max=3600, help="Lifetime in seconds.")] = 3600,
) -> None:
    """Mint a token from the local development issuer (development only), for a user of
    an organisation the index holds, with roles from the list below."""
    from sqlmodel import col, select

    from index_service.access.devkeys import mint_dev_token
    from index_service.main import connect
    from index_service.organisations.models import Organisation

    settings = get_settings()
    if not settings.dev_issuer_enabled:
        typer.echo("the development issuer is disabled (DEV_ISSUER_ENABLED=false)", err=True)
        raise typer.Exit(2)
    db = connect(settings)
    try:
        with db.session() as session:
            found = session.exec(
                select(Organisation.code).where(col(Organisation.code) == org.upper())
            ).first()
    finally:
        db.close()
    if found is None:
        typer.echo(
            f"no organisation has the code {org!r}: every token's organisation must take part "
            "(load the demo's with `index-service seed-demo`, or add one with "
            "`index-service add-organisation`)",
            err=True,
        )
        raise typer.Exit(2)
    typer.echo(
        mint_dev_token(
            settings,
            subject=sub,
            name=name,
            email=email or f"{sub}@{org.lower()}.example",
            organisation=org,
            roles=[r.value for r in role],
            ttl_seconds=ttl,
        )
    )


@app.command("seed-demo")
def seed_demo(
    children: Annotated[int, typer.Option(min=1, max=100_000)] = 300,
    seed: Annotated[int, typer.Option(help="Random seed: the same seed, the same data.")] = 7,
    once: Annotated[bool, typer.Option(help="Do nothing if demo data is already there.")] = False,
) -> None:
    """Load synthetic organisations and children (generated, never real people)."""
    from index_service.demo.seed import seed_demo_data
    from index_service.main import connect

    settings = get_settings()
    db = connect(settings)
    try:
        with db.transaction() as session:
            created = seed_demo_data(
                session=session, children=children, seed=seed, once=once, settings=settings
            )
    finally:
        db.close()
    typer.echo(created.summary())


@app.command()
def demo(
    base_url: Annotated[
        str | None,
        typer.Option(help="The running service (default: PUBLIC_URL, else 127.0.0.1:PORT)."),
    ] = None,
) -> None:
    """Walk the Climbié scenario through a running service's API as the demo personas,
    saying each step in plain English (needs `seed-demo` data; development only)."""
    from index_service.demo.story import DemoError, walk

    settings = get_settings()
    try:
        walk(base_url=base_url or settings.public_url, settings=settings, say=typer.echo)
    except DemoError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from None


@app.command("add-organisation")
def add_organisation(
    code: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    type: Annotated[
        OrganisationType,
        typer.Option(help=f"The organisation's type, one of: {', '.join(OrganisationType)}."),
    ],
    local_authority: Annotated[str, typer.Option(help="ONS code, e.g. E09000009.")],
    phone: Annotated[str | None, typer.Option(help="In-hours phone.")] = None,
    email: Annotated[str | None, typer.Option(help="Contact (secure) email.")] = None,
    out_of_hours_phone: Annotated[
        str | None,
        typer.Option(help="Out-of-hours phone (children's social care: emergency duty team)."),
    ] = None,
) -> None:
    """Register an organisation from the command line: how the first administrator's
    organisation is bootstrapped before anyone can call the API."""
    from pydantic import ValidationError

    from index_service.audit.service import record_system_event
    from index_service.errors import Conflict
    from index_service.main import connect
    from index_service.organisations.models import OrganisationCreate
    from index_service.organisations.service import create_organisation

    try:
        data = OrganisationCreate.model_validate(
            {
                "code": code,
                "name": name,
                "type": type.value,
                "local_authority": local_authority,
                "contact_phone": phone,
                "contact_email": email,
                "out_of_hours_phone": out_of_hours_phone,
            }
        )
    except ValidationError as exc:
        for error in exc.errors():  # the field and what is wrong, as a sentence each
            field = ".".join(str(part) for part in error["loc"]) or "input"
            typer.echo(f"--{field.replace('_', '-')}: {error['msg']}", err=True)
        raise typer.Exit(2) from None
    db = connect(get_settings())
    try:
        with db.transaction() as session:
            organisation = create_organisation(session=session, caller=None, data=data)
            record_system_event(  # an administrative act at the console: audited too
                session=session,
                action="admin:organisation:create",
                instance=get_settings().instance_name,
                part="cli:add-organisation",
                detail={"organisation_id": str(organisation.id), "code": organisation.code},
            )
            typer.echo(f"created organisation {organisation.code} ({organisation.id})")
    except Conflict as exc:
        typer.echo(exc.detail, err=True)
        raise typer.Exit(1) from None
    finally:
        db.close()


@app.command("import")
def import_feed(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="The feed file.")],
    organisation: Annotated[
        str, typer.Option(help="Code of the organisation that supplied the feed.")
    ],
    format: Annotated[
        str | None, typer.Option(help="csv or fhir (default: from the file's extension).")
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help="Write the per-row report here, as JSON.")
    ] = None,
) -> None:
    """Apply an agency feed (CSV or a FHIR R4 Bundle) as that organisation's agency system
    would through `POST /v1/feeds`, without a size limit, committing every batch (a run cut
    short is simply run again: rows already taken are recognised and left alone)."""
    import json

    import rich.progress

    from index_service.feeds.cli import import_file
    from index_service.feeds.records import FORMATS, FeedUnreadable, format_of_file_name
    from index_service.main import connect

    kind = format or format_of_file_name(file.name)
    if kind not in FORMATS:
        typer.echo("give --format csv or --format fhir", err=True)
        raise typer.Exit(2)
    settings = get_settings()
    db = connect(settings)
    try:
        with rich.progress.open(file, "rb", description=f"Importing {file.name}") as stream:
            done = import_file(
                db=db, settings=settings, organisation_code=organisation, stream=stream, kind=kind
            )
    except (LookupError, FeedUnreadable) as exc:
        typer.echo(f"index-service import: {exc}", err=True)
        raise typer.Exit(1) from None
    finally:
        db.close()
    counts = ", ".join(f"{k} {v}" for k, v in done.counts.items())
    typer.echo(f"feed {done.feed_id}: {counts}")
    if report is not None:
        rows = [
            {
                "row": r.row,
                "source_record_id": r.source_record_id,
                "outcome": r.outcome.value,
                "child_id": str(r.child_id) if r.child_id else None,
                "gaps": r.gaps,
                "problems": [{"field": p.field, "detail": p.detail} for p in r.problems],
            }
            for r in done.rows
        ]
        report.write_text(
            json.dumps(
                {"feed_id": str(done.feed_id), "counts": done.counts, "rows": rows}, indent=1
            )
        )


@app.command()
def openapi(
    out: Annotated[Path, typer.Option(help="Where to write it.")] = Path("openapi/openapi.json"),
    check: Annotated[
        bool, typer.Option(help="Fail if the file differs instead of writing.")
    ] = False,
) -> None:
    """Write (or check) the committed OpenAPI document."""
    from index_service.openapi_doc import render_openapi

    text = render_openapi()
    if check:
        if not out.exists() or out.read_text() != text:
            typer.echo(f"{out} is out of date: run `index-service openapi`", err=True)
            raise typer.Exit(1)
        typer.echo(f"{out} is up to date")
        return
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text)
    typer.echo(f"wrote {out}")
