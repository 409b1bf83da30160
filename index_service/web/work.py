"""The pages of those who act on what the index tells them: a key worker's alerts and the
children they hold, a designated manager's team inbox and enquiry-only contacts. Thin
views, as `pages.py`'s are: each calls what the API's route calls (`api/alerts.py`,
`api/enquiry_contacts.py`, the services under them) and renders a template. Whose alerts
and contacts these are is `access/inboxes.py`'s; whose names are shown, `access/views.py`;
what a sensitive service's enquirer shows, `access/sensitive.py`.

Alerts name children, so their pages ask for the session's purpose and record it (the
API's alert routes need none: an API client opens a child with a purpose). Ids are in
the URLs, never child data; filters are the rule and whether acknowledged."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import ValidationError

from index_service.access.policy import Permission
from index_service.alerts import service as alerts
from index_service.alerts.models import Rule
from index_service.alerts.schemas import AlertAcknowledge, AlertPublic
from index_service.api import alerts as alerts_api
from index_service.api import enquiry_contacts as contacts_api
from index_service.common import utcnow
from index_service.enquiries import contacts
from index_service.enquiries.models import EnquiryContactClose
from index_service.involvements.held import my_children
from index_service.matching.contact_model import load_contact_model
from index_service.web.render import render
from index_service.web.routing import PageContext, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
LISTED = 200  # alerts or contacts on one page


def get_page(request: Request) -> PageContext:
    context: PageContext = request.state.page
    return context


PageDep = Annotated[PageContext, Depends(get_page)]


def _unacknowledged_first(items: list[AlertPublic]) -> list[AlertPublic]:
    return sorted(items, key=lambda a: a.acknowledged_at is not None)  # stable: newest first


@router.get("/alerts", **page(Permission.ALERT_READ, purpose=True))
def my_alerts(page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    found = alerts.list_alerts(
        session=unit.session,
        caller=viewer.principal,
        unacknowledged_only=False,
        limit=LISTED,
        inbox=alerts.Inbox.OWN,
    )
    items = alerts_api.answer_list(unit.session, viewer.principal, unit, found)
    return render(page.request, "alerts.html", alerts=_unacknowledged_first(items))


ACKNOWLEDGED = {"yes": True, "no": False}


@router.get("/inbox", **page(Permission.ALERT_READ, purpose=True))
def team_inbox(page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    query = page.request.query_params
    rule = query.get("rule", "")
    rule = rule if rule in {r.value for r in Rule} else ""
    acknowledged = query.get("acknowledged", "")
    acknowledged = acknowledged if acknowledged in ACKNOWLEDGED else ""
    found = alerts.list_alerts(
        session=unit.session,
        caller=viewer.principal,
        unacknowledged_only=False,
        limit=LISTED,
        inbox=alerts.Inbox.TEAMS,
        rule=rule or None,
        acknowledged=ACKNOWLEDGED.get(acknowledged),
    )
    unit.audit.detail["filters"] = {"rule": rule, "acknowledged": acknowledged}
    items = alerts_api.answer_list(unit.session, viewer.principal, unit, found)
    return render(
        page.request,
        "inbox.html",
        alerts=_unacknowledged_first(items),
        rule=rule,
        acknowledged=acknowledged,
        rules=[r.value for r in Rule],
    )


@router.get("/alerts/{alert_id}", **page(Permission.ALERT_READ, purpose=True))
def alert_page(alert_id: uuid.UUID, page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    alert = alerts_api.read_alert(alert_id, unit.session, viewer.principal, unit)
    done = page.request.query_params.get("acknowledged") == "1"
    return render(page.request, "alert.html", alert=alert, errors={}, note="", done=done)


@router.post("/alerts/{alert_id}/acknowledge", **page(Permission.ALERT_ACKNOWLEDGE, purpose=True))
def acknowledge(alert_id: uuid.UUID, page: PageDep) -> Response:
    """Acknowledging twice keeps the first acknowledgement, as the API's does; the note is
    one line of up to 200 characters."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    note = page.field("note")
    try:
        body = AlertAcknowledge(note=note or None)
    except ValidationError:
        unit.audit.reason = "invalid_input"
        alert = alerts_api.read_alert(alert_id, unit.session, viewer.principal, unit)
        errors = {"note": "Say what you did in one line, at most 200 characters"}
        return render(
            page.request,
            "alert.html",
            status_code=422,
            alert=alert,
            errors=errors,
            note=note,
            done=False,
        )
    alerts_api.acknowledge(alert_id, unit.session, viewer.principal, unit, body)
    return RedirectResponse(f"/alerts/{alert_id}?acknowledged=1", status_code=303)


@router.get("/my-children", **page(Permission.FLAG_OVERDUE_READ))
def held_children(page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    held = my_children(session=unit.session, caller=viewer.principal, today=utcnow().date())
    unit.audit.detail["involvement_ids"] = [str(h.involvement_id) for h in held]
    unit.audit.children(*(h.child_id for h in held))
    return render(page.request, "my_children.html", held=held)


@router.get("/enquiry-contacts", **page(Permission.ENQUIRY_CONTACT_READ))
def enquiry_contacts(page: PageDep) -> Response:
    return _contacts_page(page, errors={})


def _contacts_page(page: PageContext, errors: dict[str, str], status_code: int = 200) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    listed = contacts_api.list_contacts(unit.session, viewer.principal, unit, LISTED, None)
    groups = contacts.grouped(listed.items, load_contact_model())
    return render(
        page.request,
        "enquiry_contacts.html",
        status_code=status_code,
        groups=groups,
        errors=errors,
        closed=page.request.query_params.get("closed") == "1",
    )


@router.post("/enquiry-contacts/{contact_id}/close", **page(Permission.ENQUIRY_CONTACT_CLOSE))
def close_contact(contact_id: uuid.UUID, page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    try:
        body = EnquiryContactClose(reason=page.field("reason"))
    except ValidationError:
        unit.audit.reason = "invalid_input"
        unit.audit.detail["enquiry_contact_id"] = str(contact_id)
        errors = {str(contact_id): "Say why you are closing it, in one line"}
        return _contacts_page(page, errors, status_code=422)
    contacts_api.close_contact(contact_id, body, unit.session, viewer.principal, unit)
    return RedirectResponse("/enquiry-contacts?closed=1", status_code=303)
