"""Rendering pages: one Jinja environment (the service's templates, then the GOV.UK
Frontend Jinja macros under `govuk_frontend_jinja/`), autoescaped, and the plain-English
words the templates use for codes (`web/words.py`)."""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import ChoiceLoader, Environment, PackageLoader, PrefixLoader, select_autoescape

from index_service.audit.actions import sentence
from index_service.web import words

_env = Environment(
    loader=ChoiceLoader(
        [
            PackageLoader("index_service.web", "templates"),
            PrefixLoader({"govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja")}),
        ]
    ),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
_env.globals.update(words=words)
_env.filters.update(
    date=words.long_date,
    datetime=words.long_datetime,
    purpose=words.purpose_label,
    flag_kind=words.flag_kind,
    nhs_number_status=words.nhs_number_status,
    nhs_number_region=words.nhs_number_region,
    did=sentence,
)

ERRORS = {
    "csrf": (
        "This form could not be accepted",
        "The page you sent it from had expired or did not come from this service. Go back, "
        "reload the page and try again.",
    ),
    403: ("You cannot do that", "Your role or organisation does not allow it."),
    404: ("Page not found", "There is nothing at this address, or you cannot see it."),
    429: (
        "Too many look-ups",
        "You have made a lot of look-ups in a short time. Wait a minute, then try again.",
    ),
    500: (
        "Sorry, there is a problem with the service",
        "Nothing was shown or changed. Try again later. If you need to act now, call the "
        "local authority's children's social care (out of hours: its emergency duty team).",
    ),
    503: (
        "Sorry, the service is unavailable",
        "Nothing was shown or changed. Try again in a few minutes. If you need to act now, "
        "call the local authority's children's social care.",
    ),
}


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    page = getattr(request.state, "page", None)
    viewer = context.pop("viewer", None) or (page.viewer if page is not None else None)
    csrf = (
        viewer.row.csrf_secret
        if viewer is not None
        else getattr(request.state, "pre_sign_in_token", "")
    )
    html = _env.get_template(template).render(
        cspNonce=request.state.csp_nonce,
        viewer=viewer,
        csrf_token=csrf,
        settings=request.app.state.settings,
        **context,
    )
    return HTMLResponse(html, status_code=status_code)


def error_page(
    request: Request,
    nonce: str,
    status: int,
    *,
    viewer: Any = None,
    code: str | int | None = None,
    detail: str | None = None,
) -> HTMLResponse:
    request.state.csp_nonce = nonce
    title, body = ERRORS.get(code or status, ERRORS.get(status, ERRORS[500]))
    if detail and status in (403, 404, 409, 422):
        body = words.sentence(detail)
    return render(
        request,
        "error.html",
        status_code=status,
        viewer=viewer,
        title=title,
        body=body,
    )


def environment() -> Environment:
    """The templates' environment, for output that is not a page (a PDF's HTML)."""
    return _env
