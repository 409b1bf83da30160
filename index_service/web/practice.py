"""A practitioner's own work on a child they found: record my involvement, raise a flag,
and my recent enquiries. Thin views, as `pages.py`'s are: each calls what the API's route
calls (`involvements/flows.start`, `flags/flows.raise_flag`, `enquiries/service`) with the
same reach rule (a child the caller found by an enquiry of the last days), and who may do
what is `access/`'s (`may_be_key_worker`, `may_raise_flag`): the forms offer only what
those allow, and the services refuse the rest, audited.

The forms start from the child's entry as this session opened it (kept with the session:
`web_page`), so their addresses carry the enquiry's and the child's ids, never child data."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import RedirectResponse
from pydantic import TypeAdapter, ValidationError
from sqlmodel import Session

from index_service.access.objects import may_be_key_worker, may_raise_flag
from index_service.access.policy import Permission
from index_service.access.principal import Principal
from index_service.alerts.flows import timing_of
from index_service.children.schemas import ChildPublic
from index_service.common import utcnow
from index_service.enquiries import service as enquiries
from index_service.errors import NotFound
from index_service.flags import flows as flag_flows
from index_service.flags.models import FlagKind
from index_service.flags.schemas import AreaOfConcern, FlagCreate, ProtectionCategory
from index_service.involvements import flows as involvement_flows
from index_service.involvements.schemas import InvolvementCreate
from index_service.involvements.service import public_of as involvement_public
from index_service.web import sessions
from index_service.web.render import render
from index_service.web.routing import PageContext, PageRoute, page

router = APIRouter(route_class=PageRoute, include_in_schema=False)
RECENT = 100  # enquiries listed on one page


def get_page(request: Request) -> PageContext:
    context: PageContext = request.state.page
    return context


PageDep = Annotated[PageContext, Depends(get_page)]


def _entry(
    session: Session, page: PageContext, enquiry_id: uuid.UUID, child_id: uuid.UUID
) -> tuple[ChildPublic, str]:
    """The child's entry as this session was shown it (a match, or an opened candidate),
    and the address of that page. Nothing else: a form about a child starts from a child
    the practitioner found."""
    viewer = page.viewer
    assert viewer is not None
    opened = sessions.kept_page(
        session=session, session_hash=viewer.row.id_hash, key=f"child:{enquiry_id}:{child_id}"
    )
    if opened is not None:
        return (
            ChildPublic.model_validate(opened),
            f"/enquiries/{enquiry_id}/children/{child_id}",
        )
    answer = sessions.kept_page(
        session=session, session_hash=viewer.row.id_hash, key=f"enquiry:{enquiry_id}"
    )
    child = (answer or {}).get("child")
    if isinstance(child, dict) and child.get("id") == str(child_id):
        return ChildPublic.model_validate(child), f"/enquiries/{enquiry_id}"
    raise NotFound(
        "this page is no longer available: pages of a look-up are kept only while you "
        "stay signed in. Look the child up again"
    )


def _entry_now(
    page: PageContext, enquiry_id: uuid.UUID, child_id: uuid.UUID
) -> tuple[ChildPublic, str]:
    with page.request.app.state.db.transaction() as session:
        return _entry(session, page, enquiry_id, child_id)


def child_name(child: ChildPublic) -> str:
    for name in child.names or []:
        if name.kind == "legal":
            return f"{name.given_names} {name.family_name}"
    return "this child"


def _date(page: PageContext, prefix: str) -> tuple[date | None, bool]:
    """A GOV.UK date input's three fields: (the date or None, whether anything was typed)."""
    parts = [page.field(f"{prefix}_{p}") for p in ("day", "month", "year")]
    if not any(parts):
        return None, False
    try:
        return date(int(parts[2]), int(parts[1]), int(parts[0])), True
    except ValueError:
        return None, True


def _field_of(error: Any) -> str:
    names = [part for part in error["loc"] if isinstance(part, str)]
    return names[-1] if names else "form"


# --- Record my involvement -------------------------------------------------------------

ROLES = {
    "key_worker": ("Key worker", "The social worker holding the child protection plan."),
    "allocated_worker": ("Allocated worker", "The social worker of a child in need."),
    "lead_professional": ("Lead professional", "You coordinate early help for this child."),
    "other": ("Another role", "You work with the child in your service."),
}
INVOLVEMENT_FIELDS = ("service", "role", "practitioner_phone", "practitioner_email")
INVOLVEMENT_MESSAGES = {
    "service": "Enter the service you work in, like Health visiting",
    "role": "Select your role with this child",
    "practitioner_phone": "Enter a phone number, like 020 7946 0555",
    "practitioner_email": "Enter an email address, like name@example.org",
    "start_date": "Start date must be a real date, today or in the past",
}


def roles_for(principal: Principal) -> dict[str, tuple[str, str]]:
    """The roles the caller may record: key worker and allocated worker are children's
    social care's social workers' (`may_be_key_worker`)."""
    social_worker = bool(may_be_key_worker(principal))
    return {
        key: words
        for key, words in ROLES.items()
        if social_worker or key not in ("key_worker", "allocated_worker")
    }


def _involvement_form(
    page: PageContext,
    child: ChildPublic,
    back: str,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    viewer = page.viewer
    assert viewer is not None
    return render(
        page.request,
        "involvement_form.html",
        status_code=status_code,
        child_name=child_name(child),
        back=back,
        roles=roles_for(viewer.principal),
        values=values,
        errors=errors,
    )


@router.get(
    "/enquiries/{enquiry_id}/children/{child_id}/involvement",
    **page(needs=Permission.INVOLVEMENT_RECORD),
)
def involvement_form(enquiry_id: uuid.UUID, child_id: uuid.UUID, page: PageDep) -> Response:
    viewer = page.viewer
    assert viewer is not None
    child, back = _entry_now(page, enquiry_id, child_id)
    values = {"practitioner_email": viewer.principal.email or ""}
    return _involvement_form(page, child, back, values, {})


@router.post(
    "/enquiries/{enquiry_id}/children/{child_id}/involvement",
    **page(Permission.INVOLVEMENT_RECORD),
)
def record_involvement(enquiry_id: uuid.UUID, child_id: uuid.UUID, page: PageDep) -> Response:
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    assert unit.purpose is not None
    unit.audit.children(child_id)
    child, back = _entry(unit.session, page, enquiry_id, child_id)
    values = {name: page.field(name) for name in INVOLVEMENT_FIELDS}
    for part in ("day", "month", "year"):
        values[f"start_{part}"] = page.field(f"start_{part}")
    errors: dict[str, str] = {}
    role = values["role"]
    if role not in ROLES:
        errors["role"] = INVOLVEMENT_MESSAGES["role"]
    start, typed = _date(page, "start")
    if typed and (start is None or start > utcnow().date()):
        errors["start_date"] = INVOLVEMENT_MESSAGES["start_date"]
    data: InvolvementCreate | None = None
    try:
        data = InvolvementCreate(
            service=values["service"],
            practitioner_phone=values["practitioner_phone"] or None,
            practitioner_email=values["practitioner_email"] or None,
            start_date=start,
            is_key_worker=role == "key_worker",
            is_allocated_worker=role == "allocated_worker",
            is_lead_professional=role == "lead_professional",
        )
    except ValidationError as invalid:
        for error in invalid.errors():
            name = _field_of(error)
            errors.setdefault(name, INVOLVEMENT_MESSAGES.get(name, "Check this answer"))
    if errors or data is None:
        unit.audit.reason = "invalid_input"
        return _involvement_form(page, child, back, values, errors, status_code=422)
    # A role the form did not offer is refused by the service (`may_be_key_worker`).
    involvement, raised = involvement_flows.start(
        session=unit.session,
        caller=viewer.principal,
        purpose=unit.purpose,
        child_id=child_id,
        data=data,
        enquiry_since=utcnow() - timedelta(days=page.settings.reach_after_enquiry_days),
        timing=timing_of(page.settings),
    )
    unit.audit.detail["involvement_id"] = str(involvement.id)
    unit.note_alerts(raised)
    record = involvement_public(involvement, viewer.principal.organisation_code)
    sessions.keep_page(
        session=unit.session,
        session_hash=viewer.row.id_hash,
        key=f"involvement:{involvement.id}",
        body={"record": record.model_dump(mode="json"), "back": back},
    )
    return RedirectResponse(f"/involvements/{involvement.id}", status_code=303)


@router.get("/involvements/{involvement_id}", **page(needs=Permission.INVOLVEMENT_RECORD))
def involvement_recorded(involvement_id: uuid.UUID, page: PageDep) -> Response:
    kept = _kept(page, f"involvement:{involvement_id}")
    return render(
        page.request, "involvement_recorded.html", record=kept["record"], back=kept["back"]
    )


# --- Raise a flag ----------------------------------------------------------------------

# What each kind carries beyond the contact and the review date (`flags/schemas.py`):
# (field, label, input) where input is "text", "date", "category" or "concern".
EXTRAS: dict[FlagKind, tuple[tuple[str, str, str], ...]] = {
    FlagKind.CHILD_PROTECTION_PLAN: (
        ("category", "Category of the plan", "category"),
        ("key_worker", "Key worker's name", "text"),
    ),
    FlagKind.LOOKED_AFTER: (
        ("responsible_authority", "Responsible local authority's code, like E09000009", "text"),
    ),
    FlagKind.UNBORN_CHILD_PROTECTION_PLAN: (
        ("expected_date_of_delivery", "Expected date of delivery", "date"),
        ("mother_given_names", "Mother's given names", "text"),
        ("mother_family_name", "Mother's family name", "text"),
    ),
    FlagKind.CHILD_IN_NEED: (("allocated_worker", "Allocated worker's name", "text"),),
    FlagKind.EARLY_HELP: (("lead_professional", "Lead professional's name", "text"),),
    FlagKind.CONCERN_RAISED: (("area_of_concern", "Area of concern", "concern"),),
    FlagKind.MISSING_EDUCATION: (
        ("education_welfare_contact", "Education welfare contact's name", "text"),
    ),
    FlagKind.MISSING_FROM_HOME: (),
}
CHOICES = {
    "category": {c.value: c.value.capitalize() for c in ProtectionCategory},
    "concern": {
        AreaOfConcern.DEVELOPMENTAL_NEEDS.value: "The child's developmental needs",
        AreaOfConcern.PARENTING_CAPACITY.value: "Parenting capacity",
        AreaOfConcern.FAMILY_AND_ENVIRONMENTAL_FACTORS.value: "Family and environmental factors",
    },
}
CONTACT_FIELDS = ("contact_name", "contact_phone", "contact_email")
FLAG_MESSAGES = {
    "kind": "Select the kind of flag",
    "contact_name": "Enter the name of the person to contact, using letters",
    "contact_phone": "Enter a phone number, like 020 7946 0555",
    "contact_email": "Enter an email address, like name@example.org",
    "review_date": "Review date must be a real date after today",
    "category": "Select the category of the plan",
    "area_of_concern": "Select the area of concern",
    "expected_date_of_delivery": "Expected date of delivery must be a real date",
    "responsible_authority": "Enter the local authority's code: E followed by 8 digits",
}
_FLAG = TypeAdapter(FlagCreate)


def kinds_for(principal: Principal) -> list[FlagKind]:
    """The kinds the caller's organisation may raise (`access/objects.may_raise_flag`)."""
    return [kind for kind in FlagKind if may_raise_flag(principal, kind)]


def _flag_fields() -> list[str]:
    names = ["kind", *CONTACT_FIELDS, "review_day", "review_month", "review_year"]
    for extras in EXTRAS.values():
        for name, _, kind_of_input in extras:
            if kind_of_input == "date":
                names += [f"{name}_day", f"{name}_month", f"{name}_year"]
            else:
                names.append(name)
    return names


def _flag_form(
    page: PageContext,
    child: ChildPublic,
    back: str,
    values: dict[str, str],
    errors: dict[str, str],
    status_code: int = 200,
) -> Response:
    viewer = page.viewer
    assert viewer is not None
    return render(
        page.request,
        "flag_form.html",
        status_code=status_code,
        child_name=child_name(child),
        back=back,
        kinds=kinds_for(viewer.principal),
        extras=EXTRAS,
        choices=CHOICES,
        values=values,
        errors=errors,
    )


@router.get("/enquiries/{enquiry_id}/children/{child_id}/flag", **page(needs=Permission.FLAG_RAISE))
def flag_form(enquiry_id: uuid.UUID, child_id: uuid.UUID, page: PageDep) -> Response:
    child, back = _entry_now(page, enquiry_id, child_id)
    return _flag_form(page, child, back, {}, {})


@router.post("/enquiries/{enquiry_id}/children/{child_id}/flag", **page(Permission.FLAG_RAISE))
def raise_flag(enquiry_id: uuid.UUID, child_id: uuid.UUID, page: PageDep) -> Response:
    """A kind the form did not offer is refused by the service (`may_raise_flag`), 403
    and audited: the form only spares the practitioner a choice they cannot make."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    assert unit.purpose is not None
    unit.audit.children(child_id)
    child, back = _entry(unit.session, page, enquiry_id, child_id)
    values = {name: page.field(name) for name in _flag_fields()}
    errors: dict[str, str] = {}
    kind = FlagKind(values["kind"]) if values["kind"] in set(FlagKind) else None
    data: dict[str, Any] = {"kind": values["kind"]}
    for name in CONTACT_FIELDS:
        if values[name]:
            data[name] = values[name]
    review, typed = _date(page, "review")
    if typed and (review is None or review <= utcnow().date()):
        errors["review_date"] = FLAG_MESSAGES["review_date"]
    elif review is not None:
        data["review_date"] = review
    if kind is None:
        errors["kind"] = FLAG_MESSAGES["kind"]
    else:
        for name, _, kind_of_input in EXTRAS[kind]:
            if kind_of_input == "date":
                when, typed = _date(page, name)
                if typed and when is None:
                    errors[name] = FLAG_MESSAGES[name]
                elif when is not None:
                    data[name] = when
            elif values[name]:
                data[name] = values[name]
        try:
            flag_data = _FLAG.validate_python(data)
        except ValidationError as invalid:
            for error in invalid.errors():
                name = _field_of(error)
                errors.setdefault(
                    name, FLAG_MESSAGES.get(name, f"Enter the {_label(kind, name).lower()}")
                )
    if errors:
        unit.audit.reason = "invalid_input"
        return _flag_form(page, child, back, values, errors, status_code=422)
    flag, raised = flag_flows.raise_flag(
        session=unit.session,
        caller=viewer.principal,
        purpose=unit.purpose,
        child_id=child_id,
        data=flag_data,
        enquiry_since=utcnow() - timedelta(days=page.settings.reach_after_enquiry_days),
        timing=timing_of(page.settings),
    )
    unit.audit.detail.update(flag_id=str(flag.id), kind=flag.kind)
    unit.note_alerts(raised)
    sessions.keep_page(
        session=unit.session,
        session_hash=viewer.row.id_hash,
        key=f"flag:{flag.id}",
        body={
            "kind": flag.kind,
            "contact_name": flag.contact_name,
            "contact_phone": flag.contact_phone,
            "contact_email": flag.contact_email,
            "review_date": flag.review_date.isoformat() if flag.review_date else None,
            "back": back,
        },
    )
    return RedirectResponse(f"/flags/{flag.id}", status_code=303)


def _label(kind: FlagKind, name: str) -> str:
    for field, label, _ in EXTRAS[kind]:
        if field == name:
            return label
    return "answer"


@router.get("/flags/{flag_id}", **page(needs=Permission.FLAG_RAISE))
def flag_raised(flag_id: uuid.UUID, page: PageDep) -> Response:
    return render(page.request, "flag_raised.html", flag=_kept(page, f"flag:{flag_id}"))


# --- My recent enquiries ---------------------------------------------------------------


@router.get("/my-enquiries", **page(Permission.ENQUIRY_OPEN))
def my_enquiries(page: PageDep) -> Response:
    """The caller's own look-ups of the days in which they may still act on what they
    found (the reach rule's window). What they searched on is child data: the page is
    audited under the session's purpose, as reopening an enquiry is."""
    viewer, unit = page.viewer, page.unit
    assert viewer is not None
    days = page.settings.reach_after_enquiry_days
    found = enquiries.my_recent_enquiries(
        session=unit.session,
        caller=viewer.principal,
        since=utcnow() - timedelta(days=days),
        limit=RECENT,
    )
    unit.audit.detail["enquiry_ids"] = [str(e.id) for e in found]
    return render(page.request, "my_enquiries.html", enquiries=found, days=days)


def _kept(page: PageContext, key: str) -> dict[str, Any]:
    viewer = page.viewer
    assert viewer is not None
    with page.request.app.state.db.transaction() as session:
        body = sessions.kept_page(session=session, session_hash=viewer.row.id_hash, key=key)
    if body is None:
        raise NotFound("this page is no longer available: it is kept only while you stay signed in")
    return body
