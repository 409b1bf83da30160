"""The auditor's pages: who looked at a child, what a person looked at (found by their
name, email or organisation, never by an identity provider's URN), the six misuse
reports in plain words, the trail's verification, and the serious-case-review report for
one child and a period (HTML to print, PDF, and the events as CSV or FHIR).

Thin views, as `pages.py`'s are: each calls what `api/audit.py` calls (`audit/queries.py`,
`audit/reports.py`, `audit/verify.py`, `audit/export.py`, and `audit/review.py` for the
review), within the same scope clause (`access/scope.py`). Every page is audited under the
API's permission for it, with the filter it used, so an auditor's searches and reports are
themselves in the trail. Ids and dates go in URLs, never a child's details."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse, StreamingResponse

from index_service.access.need_to_know import CriteriaInsufficient
from index_service.access.policy import Permission
from index_service.access.principal import Principal
from index_service.alerts.calendar import LONDON
from index_service.audit import checkpoints, export, finding, queries, reports, review
from index_service.audit.schemas import MisuseReportName
from index_service.audit.verify import run_verify
from index_service.common import utcnow
from index_service.errors import InvalidInput, NotFound
from index_service.web import forms
from index_service.web.render import environment, render
from index_service.web.routing import PageContext, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def get_page(request: Request) -> PageContext:
    context: PageContext = request.state.page
    return context


PageDep = Annotated[PageContext, Depends(get_page)]

REPORT_TITLES = {
    MisuseReportName.SHIELDED_ACCESSES: (
        "Shielded records that were looked at",
        "Each time someone reached a shielded child's record.",
    ),
    MisuseReportName.FRUITLESS_SEARCHES: (
        "Searches that found nothing, again and again",
        "People who searched repeatedly without finding a child: fishing for a match.",
    ),
    MisuseReportName.OUT_OF_HOURS: (
        "Looks outside working hours",
        "Records opened at night, at weekends or on bank holidays.",
    ),
    MisuseReportName.OUT_OF_AREA: (
        "Looks at children with no local link",
        "Records opened by people whose organisation has no tie to the child's area.",
    ),
    MisuseReportName.MANY_CHILDREN: (
        "Many children looked at in one hour",
        "People who opened more children's records in an hour than the usual limit.",
    ),
    MisuseReportName.OVERDUE_ALERTS: (
        "Alerts not acknowledged in time",
        "Alerts still waiting past the time they should have been acknowledged.",
    ),
}


def _principal(page: PageContext) -> Principal:
    assert page.viewer is not None
    return page.viewer.principal


def _day(value: str | None, field: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(f"{field} must be a date like 2026-03-31", code="invalid_date") from None


def _window(page: PageContext) -> reports.Window:
    """The period of a report from its `from` and `to` days (London days, `to` included);
    by default the 30 days to now, as the API's reports."""
    query = page.request.query_params
    start, end = _day(query.get("from"), "from"), _day(query.get("to"), "to")
    since = datetime.combine(start, time(), LONDON) if start else None
    until = datetime.combine(end, time(), LONDON) + timedelta(days=1) if end else None
    return reports.window_between(since, until)


def _days(window: reports.Window) -> dict[str, str]:
    """The window as the `from` and `to` days of the forms and links."""
    last = window.until.astimezone(LONDON) - timedelta(microseconds=1)
    return {
        "from": window.since.astimezone(LONDON).date().isoformat(),
        "to": last.date().isoformat(),
    }


def _child_id(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value.strip())
    except ValueError:
        return None


@router.get("/audit/review.css", **page(public=True))
def review_stylesheet(page: PageDep) -> Response:
    """The review's print stylesheet (the pages' CSP takes styles from this site only)."""
    css = environment().get_template("_review_style.html").render()
    return Response(css, media_type="text/css; charset=utf-8")


@router.get("/audit", **page(Permission.AUDIT_REPORT_READ))
def audit_home(page: PageDep) -> Response:
    return render(page.request, "audit_home.html", titles=REPORT_TITLES, section="audit")


@router.get("/audit/child", **page(Permission.AUDIT_REPORT_READ))
def who_looked(page: PageDep) -> Response:
    """Who looked at this child, by the child's id (typed, or a report's link)."""
    unit = page.unit
    typed = page.request.query_params.get("child_id", "").strip()
    if not typed:
        return render(page.request, "audit_child.html", report=None, typed="", errors={})
    child_id = _child_id(typed)
    if child_id is None:
        unit.audit.reason = "invalid_input"
        errors = {"child_id": "Enter the child's id as the index shows it"}
        return render(
            page.request,
            "audit_child.html",
            status_code=422,
            report=None,
            typed=typed,
            errors=errors,
        )
    unit.audit.detail["filter"] = {"child_id": str(child_id)}
    unit.audit.children(child_id)
    found = queries.child_accesses(
        session=unit.session,
        principal=_principal(page),
        child_id=child_id,
        limit=queries.MAX_PAGE,
        cursor=None,
    )
    unit.audit.detail["returned"] = len(found.accesses)
    return render(page.request, "audit_child.html", report=found, typed=str(child_id), errors={})


@router.get("/audit/child/find", **page(needs=Permission.AUDIT_REPORT_READ))
def find_child_form(page: PageDep) -> Response:
    """The look-up form, for an auditor: shows nothing of any child (no audit row; the
    search it posts is audited, with the purpose the form shows)."""
    assert page.viewer is not None
    if page.viewer.purpose is None:
        return RedirectResponse("/purpose?next=/audit/child/find", status_code=303)
    return _find_child_again(page, forms.SearchForm(values={}), 200)


def _find_child_again(page: PageContext, form: forms.SearchForm, status: int) -> Response:
    return render(
        page.request,
        "audit_child_find.html",
        status_code=status,
        form=form,
        minimum=forms.MINIMUM,
    )


@router.post("/audit/child/find", **page(Permission.AUDIT_REPORT_READ, purpose=True))
def find_child(page: PageDep) -> Response:
    """Who looked at this child, the child found as an enquiry finds one
    (`audit/finding.py`: the enquiry's need-to-know rule, matcher and resolver, then the
    auditor's scope). Audited with the auditor's purpose, the criteria as searched on and
    the children shown; answered on this POST, so no child's details are in a URL."""
    unit = page.unit
    form, data = forms.read({name: page.field(name) for name in forms.FIELDS})
    if data is None:
        unit.audit.reason = "invalid_input"
        return _find_child_again(page, form, 422)
    try:
        found = finding.find_children(
            session=unit.session,
            principal=_principal(page),
            data=data,
            action=unit.audit.action,
            request_id=unit.audit.request_id,
        )
    except CriteriaInsufficient as refused:
        unit.audit.reason = refused.code
        forms.insufficient(form, refused)
        return _find_child_again(page, form, 400)
    unit.audit.children(*(c.child_id for c in found.candidates))
    unit.audit.detail.update(
        criteria=found.criteria,  # a personal key (`audit/chain.py`): erased at retention
        outcome=found.outcome,
        model_version=found.model_version,
        returned=len(found.candidates),
    )
    return render(page.request, "audit_child_found.html", finding=found)


@router.get("/audit/people", **page(Permission.AUDIT_EVENT_SEARCH))
def find_people(page: PageDep) -> Response:
    """Find a person by part of their name, their email or their organisation."""
    unit = page.unit
    words = page.request.query_params.get("q", "").strip()
    if not words:
        return render(page.request, "audit_people.html", typed="", people=None, errors={})
    if len(words) < 2 or len(words) > 200 or not words.isprintable():
        unit.audit.reason = "invalid_input"
        errors = {"q": "Enter at least 2 letters of a name, an email or an organisation"}
        return render(
            page.request,
            "audit_people.html",
            status_code=422,
            typed=words[:200],
            people=None,
            errors=errors,
        )
    unit.audit.detail["person_search"] = words  # a personal key, as the admin's search
    people = queries.find_people(session=unit.session, principal=_principal(page), words=words)
    unit.audit.detail["returned"] = len(people)
    return render(page.request, "audit_people.html", typed=words, people=people, errors={})


@router.get("/audit/people/activity", **page(Permission.AUDIT_REPORT_READ))
def person_activity(page: PageDep) -> Response:
    """What this person did in the period: the API's practitioner activity report."""
    unit = page.unit
    query = page.request.query_params
    issuer, subject = query.get("issuer", ""), query.get("subject", "")
    if not issuer or not subject:
        raise NotFound("choose the person from a search first")
    window = _window(page)
    wanted = queries.EventFilter(
        issuer=issuer, subject=subject, since=window.since, until=window.until
    )
    unit.audit.detail["filter"] = wanted.as_detail()
    activity = queries.practitioner_activity(
        session=unit.session,
        principal=_principal(page),
        wanted=wanted,
        limit=queries.MAX_PAGE,
        cursor=None,
    )
    return render(
        page.request,
        "audit_person.html",
        activity=activity,
        days=_days(window),
        issuer=issuer,
        subject=subject,
    )


@router.get("/audit/reports/{name}", **page(Permission.AUDIT_REPORT_READ))
def misuse_report(name: str, page: PageDep) -> Response:
    unit = page.unit
    try:
        report = MisuseReportName(name)
    except ValueError:
        raise NotFound("there is no such report") from None
    window = _window(page)
    unit.audit.detail.update(report=report.value, since=str(window.since), until=str(window.until))
    settings = page.settings
    rules = reports.ReportRules(
        working_hours=(settings.working_hours_start, settings.working_hours_end),
        distinct_children_per_hour=settings.anomaly_distinct_children_per_hour,
        now=utcnow(),
    )
    cases = reports.misuse_report(
        session=unit.session, principal=_principal(page), report=report, window=window, rules=rules
    )
    unit.audit.detail["cases"] = len(cases)
    title, about = REPORT_TITLES[report]
    return render(
        page.request,
        "audit_report.html",
        title=title,
        about=about,
        report=report.value,
        cases=cases,
        days=_days(window),
    )


@router.get("/audit/verify", **page(Permission.AUDIT_CHAIN_VERIFY))
def verify_form(page: PageDep) -> Response:
    newest = checkpoints.latest(page.settings.checkpoint_dir)
    return render(page.request, "audit_verify.html", newest=newest, result=None)


@router.post("/audit/verify", **page(Permission.AUDIT_CHAIN_VERIFY))
def verify(page: PageDep) -> Response:
    """The same check as `index-service audit verify`; "intact" only when events were
    checked and no problem was found."""
    unit = page.unit
    incremental = page.field("walk") == "incremental"
    result = run_verify(db=unit.db, settings=page.settings, incremental=incremental)
    unit.audit.detail.update(
        ok=result.ok, head_position=result.head_position, incremental=incremental
    )
    newest = checkpoints.latest(page.settings.checkpoint_dir)
    return render(page.request, "audit_verify.html", newest=newest, result=result)


def _review(page: PageContext, child_id: uuid.UUID) -> review.Review:
    unit = page.unit
    window = _window(page)
    unit.audit.children(child_id)
    unit.audit.detail["filter"] = {
        "child_id": str(child_id),
        "since": str(window.since),
        "until": str(window.until),
    }
    found = review.serious_case_review(
        session=unit.session, principal=_principal(page), child_id=child_id, window=window
    )
    unit.audit.detail["returned"] = len(found.looks)
    return found


@router.get("/audit/children/{child_id}/review", **page(Permission.AUDIT_REPORT_READ))
def review_page(child_id: uuid.UUID, page: PageDep) -> Response:
    found = _review(page, child_id)
    return render(page.request, "audit_review.html", review=found, days=_days(found.window))


@router.get("/audit/children/{child_id}/review.pdf", **page(Permission.AUDIT_REPORT_READ))
def review_pdf(child_id: uuid.UUID, page: PageDep) -> Response:
    """The same report as a PDF, laid out by WeasyPrint from its own HTML (no browser)."""
    from index_service.web.pdf import pdf_of

    found = _review(page, child_id)
    page.unit.audit.detail["format"] = "pdf"
    body = pdf_of("audit_review_print.html", review=found)
    return Response(
        body,
        media_type="application/pdf",
        headers={"Content-Disposition": 'attachment; filename="serious-case-review.pdf"'},
    )


def _export(page: PageContext, child_id: uuid.UUID, kind: str) -> Iterator[str]:
    """The child's events in the period, read in a snapshot of their own once the page's
    audit row is committed (as the API's export: the answer streams after that commit)."""
    unit = page.unit
    window = _window(page)
    wanted = queries.EventFilter(child_id=child_id, since=window.since, until=window.until)
    unit.audit.detail.update(filter=wanted.as_detail(), format=kind)
    unit.audit.children(child_id)
    principal, db = _principal(page), unit.db
    if not review.has_child(unit.session, principal, child_id):
        raise NotFound("no such child in your audit scope", code="not_found")

    def events() -> Iterator[str]:
        with db.session() as session:
            session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
            found = queries.stream(session=session, principal=principal, wanted=wanted)
            if kind == "csv":
                yield from export.csv_lines(found)
            else:
                yield from export.fhir_bundle_chunks(found)

    return events()


@router.get("/audit/children/{child_id}/events.csv", **page(Permission.AUDIT_EVENT_EXPORT))
def export_csv(child_id: uuid.UUID, page: PageDep) -> Response:
    return StreamingResponse(
        _export(page, child_id, "csv"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="audit-events.csv"'},
    )


@router.get("/audit/children/{child_id}/events.fhir.json", **page(Permission.AUDIT_EVENT_EXPORT))
def export_fhir(child_id: uuid.UUID, page: PageDep) -> Response:
    return StreamingResponse(
        _export(page, child_id, "fhir"),
        media_type="application/fhir+json",
        headers={"Content-Disposition": 'attachment; filename="audit-events.fhir.json"'},
    )
