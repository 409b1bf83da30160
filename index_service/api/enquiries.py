"""/v1/enquiries: how practitioners look a child up. A search (a POST: children's details
never go in a URL) with a purpose shows at most five summaries; opening one is the
second, separately logged step. Both raise the alerts the enquiry rules call for."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Response, status
from sqlmodel import Session

from index_service.access.need_to_know import CriteriaInsufficient
from index_service.access.policy import Permission
from index_service.access.pre_birth import NOT_A_MATERNITY_SETTING
from index_service.access.principal import Principal
from index_service.access.purpose import Purpose
from index_service.alerts.service import AlertTiming
from index_service.api.context import RequestContext
from index_service.api.contract import ProblemCase
from index_service.api.deps import (
    AlertTimingDep,
    ContextDep,
    PrincipalDep,
    PurposeDep,
    SessionDep,
    SettingsDep,
    permission,
    purpose_headers,
)
from index_service.api.opening import children_opened
from index_service.api.routing import AuditedRoute
from index_service.children.schemas import ChildPublic
from index_service.enquiries import pre_birth, service
from index_service.enquiries.models import EnquiryCreate, EnquiryOutcome, EnquiryPublic
from index_service.errors import Forbidden
from index_service.settings import Settings

router = APIRouter(
    prefix="/v1/enquiries",
    tags=["enquiries"],
    route_class=AuditedRoute,
    dependencies=[Depends(purpose_headers)],
)


@router.post(
    "",
    status_code=status.HTTP_201_CREATED,
    response_model=EnquiryPublic,
    response_model_exclude_unset=True,
    **permission(
        Permission.ENQUIRY_CREATE,
        raises=(
            ProblemCase.of(
                CriteriaInsufficient,
                "not enough to search on: an NHS number, or a name with a date of birth and more",
            ),
            ProblemCase.of(
                Forbidden,
                "an enquiry about an expectant mother from an organisation other than a "
                "hospital, an emergency department, a GP practice or a health visitor",
                code=NOT_A_MATERNITY_SETTING,
            ),
        ),
    ),
)
def make_enquiry(
    body: EnquiryCreate,
    session: SessionDep,
    caller: PrincipalDep,
    purpose: PurposeDep,
    ctx: ContextDep,
    settings: SettingsDep,
    timing: AlertTimingDep,
    response: Response,
) -> EnquiryPublic:
    """Look a child up (an enquiry)

    Search with a purpose and the minimum criteria (an NHS number, or a name with a date
    of birth and more): the answer's `outcome` is `match` (one child, with who is working
    with them and how to reach them), `candidates` (at most five summaries: open one with
    `GET /v1/enquiries/{enquiry_id}/children/{child_id}`) or `not_found` (with the front
    door to contact and earlier enquiries about the same details). Details never go in a
    URL, hence a POST. The enquiry rules may raise alerts to the child's key worker.

    With `expectant_mother` instead of a child's details (hospitals, emergency
    departments, GP practices and health visitors only): `match` with `pre_birth_plan`
    (that her unborn child is on a pre-birth plan, and whom to contact) or `not_found`."""
    answer = enquire(
        session=session,
        caller=caller,
        purpose=purpose,
        data=body,
        ctx=ctx,
        settings=settings,
        timing=timing,
    )
    response.headers["Location"] = f"/v1/enquiries/{answer.id}"
    return answer


def enquire(
    *,
    session: Session,
    caller: Principal,
    purpose: Purpose,
    data: EnquiryCreate,
    ctx: RequestContext,
    settings: Settings,
    timing: AlertTiming,
) -> EnquiryPublic:
    """An enquiry and its answer, with what the request's audit row records of it: the
    API's route and the pages' search both answer through here."""
    if data.expectant_mother is not None:
        return _enquire_about_mother(
            session=session, caller=caller, purpose=purpose, data=data, ctx=ctx, timing=timing
        )
    result = service.make_enquiry(
        session=session,
        caller=caller,
        purpose=purpose,
        data=data,
        request_id=ctx.audit.request_id,
        policy=service.EnquiryPolicy(
            timing=timing,
            contact_window=timedelta(days=settings.enquiry_contact_window_days),
            contact_retention_days=settings.enquiry_contact_retention_days,
        ),
    )
    enquiry = result.enquiry
    outcome = EnquiryOutcome(enquiry.outcome)
    ctx.audit.children(*enquiry.candidate_ids)
    ctx.audit.detail.update(
        enquiry_id=str(enquiry.id),
        outcome=outcome.value,
        criteria_given=sorted(enquiry.criteria),
        # The criteria as the service normalised and searched on them (the audit trail is
        # where an auditor must find what was searched for; logs never hold them).
        criteria=enquiry.criteria,
        candidates_shown=[str(c) for c in enquiry.candidate_ids],
        model_version=enquiry.model_version,
        explanations=enquiry.explanations,
        earlier_enquiries_told=len(result.earlier),
    )
    if result.contact_comparison:
        ctx.audit.detail["enquiry_contact"] = result.contact_comparison
    ctx.note_alerts(result.alerts)
    if result.child is not None:  # a match: its answer carries the entry
        children_opened(
            session=session, settings=settings, ctx=ctx, caller=caller, child_ids=[result.child.id]
        )
    disclosed: dict[str, Any] = {"child": result.child} if result.child is not None else {}
    if outcome == EnquiryOutcome.NOT_FOUND:
        disclosed["earlier_enquiries"] = result.earlier
    if result.front_door is not None:
        disclosed["front_door"] = result.front_door
    return EnquiryPublic(
        id=enquiry.id,
        outcome=outcome,
        candidates=result.summaries,
        advice=service.advice_for(outcome, result.child),
        model_version=enquiry.model_version,
        created_at=enquiry.created_at,
        **disclosed,
    )


def _enquire_about_mother(
    *,
    session: Session,
    caller: Principal,
    purpose: Purpose,
    data: EnquiryCreate,
    ctx: RequestContext,
    timing: AlertTiming,
) -> EnquiryPublic:
    """An enquiry about an expectant mother, audited as an enquiry: the unborn child it
    found (if any) is named in the audit row, and the criteria are in its detail."""
    result = pre_birth.enquire_about_mother(
        session=session,
        caller=caller,
        purpose=purpose,
        data=data,
        request_id=ctx.audit.request_id,
        timing=timing,
    )
    enquiry = result.enquiry
    outcome = EnquiryOutcome(enquiry.outcome)
    if result.child_id is not None:
        ctx.audit.children(result.child_id)
    ctx.audit.detail.update(
        enquiry_id=str(enquiry.id),
        about="expectant_mother",
        outcome=outcome.value,
        criteria_given=sorted(enquiry.criteria["expectant_mother"]),
        criteria=enquiry.criteria,
        model_version=enquiry.model_version,
        explanations=enquiry.explanations,
    )
    ctx.note_alerts(result.alerts)
    disclosed: dict[str, Any] = {}
    if result.plan is not None:
        disclosed["pre_birth_plan"] = result.plan
    else:
        disclosed["advice"] = pre_birth.NO_PLAN_ADVICE
        disclosed["front_door"] = result.front_door
    return EnquiryPublic(
        id=enquiry.id,
        outcome=outcome,
        candidates=[],
        model_version=enquiry.model_version,
        created_at=enquiry.created_at,
        **disclosed,
    )


@router.get(
    "/{enquiry_id}/children/{child_id}",
    response_model=ChildPublic,
    response_model_exclude_unset=True,
    **permission(Permission.ENQUIRY_OPEN),
)
def open_candidate(
    enquiry_id: uuid.UUID,
    child_id: uuid.UUID,
    session: SessionDep,
    caller: PrincipalDep,
    purpose: PurposeDep,
    ctx: ContextDep,
    settings: SettingsDep,
    timing: AlertTimingDep,
) -> ChildPublic:
    """Open a child an enquiry found

    The second, separately audited step of a look-up: opens one of your own enquiry's
    candidates, within a limited time of the enquiry. Answers the record as you may see it
    and may raise alerts."""
    return open_found(
        session=session,
        caller=caller,
        purpose=purpose,
        enquiry_id=enquiry_id,
        child_id=child_id,
        ctx=ctx,
        settings=settings,
        timing=timing,
    )


def open_found(
    *,
    session: Session,
    caller: Principal,
    purpose: Purpose,
    enquiry_id: uuid.UUID,
    child_id: uuid.UUID,
    ctx: RequestContext,
    settings: Settings,
    timing: AlertTiming,
) -> ChildPublic:
    """Open a child one's own enquiry found, with what the audit row records of it: the
    API's route and the pages' "open this record" both open through here."""
    ctx.audit.children(child_id)
    ctx.audit.detail["enquiry_id"] = str(enquiry_id)
    child, raised = service.open_candidate(
        session=session,
        caller=caller,
        purpose=purpose,
        enquiry_id=enquiry_id,
        child_id=child_id,
        open_minutes=settings.enquiry_open_minutes,
        request_id=ctx.audit.request_id,
        timing=timing,
    )
    ctx.note_alerts(raised)
    children_opened(
        session=session, settings=settings, ctx=ctx, caller=caller, child_ids=[child_id]
    )
    return child
