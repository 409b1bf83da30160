"""The pages: thin views, as the API's routers are. Each parses its form, calls the
service the API calls (through the same helpers: `api/enquiries.enquire`, `open_found`)
and renders a template. Who may see what, the purpose, the audit row and the CSRF check
are `PageRoute`'s and `access/`'s, never a view's.

No child data travels in a URL: a look-up is POSTed and answered by a redirect to the
enquiry's page (addressed by its id), which shows what the audited request disclosed,
kept with the session (`web_page`) so that reloading or going back shows it again without
a second disclosure."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse

from index_service.access.need_to_know import CriteriaInsufficient
from index_service.access.policy import Permission
from index_service.access.purpose import PurposeCode, PurposeRequired
from index_service.access.purpose import purpose_of as stated_purpose
from index_service.alerts.flows import timing_of
from index_service.api.enquiries import enquire, open_found
from index_service.children.schemas import ChildPublic
from index_service.enquiries.models import EnquiryPublic
from index_service.errors import NotFound
from index_service.web import forms, sessions
from index_service.web.render import render
from index_service.web.routing import PageContext, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)


def get_page(request: Request) -> PageContext:
    context: PageContext = request.state.page
    return context


PageDep = Annotated[PageContext, Depends(get_page)]


@router.get("/", **page())
def home(page: PageDep) -> Response:
    return render(page.request, "home.html")


@router.get("/help", **page(public=True))
def help_page(page: PageDep) -> Response:
    return render(page.request, "help.html")


@router.get("/purpose", **page())
def purpose_form(page: PageDep) -> Response:
    viewer = page.viewer
    assert viewer is not None
    return render(
        page.request,
        "purpose.html",
        chosen=viewer.row.purpose or "",
        purpose_text=viewer.row.purpose_text or "",
        next=back_to(page.request.query_params.get("next")),
        errors={},
    )


_LOCAL_PATH = re.compile(r"/[A-Za-z0-9/_-]*")


def back_to(path: str | None) -> str:
    """Where to go once the purpose is stated: a page of this service (a path of ids and
    words, never another site), else the look-up."""
    if path and _LOCAL_PATH.fullmatch(path) and not path.startswith("//"):
        return path
    return "/search"


@router.post("/purpose", **page())
def state_purpose(page: PageDep) -> Response:
    viewer = page.viewer
    assert viewer is not None
    code, text = page.field("purpose"), page.field("purpose_text")
    try:
        purpose = stated_purpose(code or None, text, field="purpose", text_field="purpose_text")
    except PurposeRequired as refused:
        errors = {}
        if refused.code in ("purpose_required", "purpose_unknown"):
            errors["purpose"] = "Select why you are using the index"
        else:
            errors["purpose_text"] = (
                "Say in a few words why (at most 200 characters, on one line)"
                if text
                else "Say in a few words why you are using the index"
            )
        return render(
            page.request,
            "purpose.html",
            status_code=400,
            chosen=code if code in {c.value for c in PurposeCode} else "",
            purpose_text=text,
            next=back_to(page.field("next")),
            errors=errors,
        )
    with page.request.app.state.db.transaction() as session:
        row = session.merge(viewer.row)
        sessions.state_purpose(session=session, row=row, purpose=purpose)
    return RedirectResponse(back_to(page.field("next")), status_code=303)


@router.get("/search", **page(needs=Permission.ENQUIRY_CREATE))
def search_form(page: PageDep) -> Response:
    viewer = page.viewer
    assert viewer is not None
    if viewer.purpose is None:
        return RedirectResponse("/purpose", status_code=303)
    return render(
        page.request, "search.html", form=forms.SearchForm(values={}), minimum=forms.MINIMUM
    )


@router.post("/search", **page(Permission.ENQUIRY_CREATE))
def search(page: PageDep) -> Response:
    return look_up(
        page,
        again=lambda form, status: _search_again(page, form, status),
        answered_at="/enquiries/{id}",
    )


def look_up(
    page: PageContext,
    *,
    again: Callable[[forms.SearchForm, int], Response],
    answered_at: str,
) -> Response:
    """The look-up form posted (here, and as the data manager's "find a child"): the
    practitioner's enquiry (`api/enquiries.enquire`), with its purpose, its audit row
    and its alerts, answered on a page addressed by the enquiry's id (`answered_at`)."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    form, data = forms.read({name: page.field(name) for name in forms.FIELDS})
    if data is None:
        unit.audit.reason = "invalid_input"
        return again(form, 422)
    try:
        answer = enquire(
            session=unit.session,
            caller=viewer.principal,
            purpose=_purpose(page),
            data=data,
            ctx=unit,
            settings=page.settings,
            timing=timing_of(page.settings),
        )
    except CriteriaInsufficient as refused:
        unit.audit.reason = refused.code
        forms.insufficient(form, refused)
        return again(form, 400)
    sessions.keep_page(
        session=unit.session,
        session_hash=viewer.row.id_hash,
        key=f"enquiry:{answer.id}",
        body=answer.model_dump(mode="json", exclude_unset=True),
    )
    return RedirectResponse(answered_at.format(id=answer.id), status_code=303)


def _search_again(page: PageContext, form: forms.SearchForm, status: int) -> Response:
    return render(page.request, "search.html", status_code=status, form=form, minimum=forms.MINIMUM)


def _purpose(page: PageContext) -> Any:
    purpose = page.unit.purpose
    assert purpose is not None  # PageRoute sent anyone without one to state it
    return purpose


@router.get("/enquiries/{enquiry_id}", **page(needs=Permission.ENQUIRY_CREATE))
def enquiry_page(enquiry_id: uuid.UUID, page: PageDep) -> Response:
    body = _kept(page, f"enquiry:{enquiry_id}")
    answer = EnquiryPublic.model_validate(body)
    return render(page.request, "enquiry.html", answer=answer, child=answer.child)


@router.post("/enquiries/{enquiry_id}/open", **page(Permission.ENQUIRY_OPEN))
def open_record(enquiry_id: uuid.UUID, page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    try:
        child_id = uuid.UUID(page.field("child_id"))
    except ValueError:
        raise NotFound("no such child in your enquiry") from None
    child = open_found(
        session=unit.session,
        caller=viewer.principal,
        purpose=_purpose(page),
        enquiry_id=enquiry_id,
        child_id=child_id,
        ctx=unit,
        settings=page.settings,
        timing=timing_of(page.settings),
    )
    sessions.keep_page(
        session=unit.session,
        session_hash=viewer.row.id_hash,
        key=f"child:{enquiry_id}:{child_id}",
        body=child.model_dump(mode="json", exclude_unset=True),
    )
    return RedirectResponse(f"/enquiries/{enquiry_id}/children/{child_id}", status_code=303)


@router.get("/enquiries/{enquiry_id}/children/{child_id}", **page(needs=Permission.ENQUIRY_OPEN))
def opened_record(enquiry_id: uuid.UUID, child_id: uuid.UUID, page: PageDep) -> Response:
    child = ChildPublic.model_validate(_kept(page, f"child:{enquiry_id}:{child_id}"))
    return render(page.request, "child.html", child=child, enquiry_id=enquiry_id)


def _kept(page: PageContext, key: str) -> dict[str, Any]:
    viewer = page.viewer
    assert viewer is not None
    with page.request.app.state.db.transaction() as session:
        body = sessions.kept_page(session=session, session_hash=viewer.row.id_hash, key=key)
    if body is None:
        raise NotFound(
            "this page is no longer available: pages of a look-up are kept only while you "
            "stay signed in. Look the child up again"
        )
    return body
