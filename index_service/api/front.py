"""The API docs at `/docs`, served entirely by the service. (`/` is the web app's: a
signed-out visitor goes to the sign-in page, which points to these docs and `/healthz`.)

FastAPI's own `/docs` loads Swagger UI from a CDN, blank on a network without the
internet (most NHS and police networks). Here Swagger UI's files come from the
`swagger-ui-py` package (its `static/` folder: the bundle and its CSS, nothing fetched at
run time), and the page that starts it has no inline script, so the pages' Content
Security Policy holds (images may also be `data:` URIs: Swagger UI's icons are)."""

from __future__ import annotations

import importlib.util
import secrets
from pathlib import Path

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.responses import PlainTextResponse
from starlette.types import Receive, Scope, Send

from index_service.web.headers import secured

_PACKAGE = importlib.util.find_spec("swagger_ui")  # located, not imported: files only
if _PACKAGE is None or _PACKAGE.origin is None:
    raise ImportError("swagger-ui-py is a dependency of the service (pyproject.toml)")
SWAGGER_STATIC = Path(_PACKAGE.origin).resolve().parent / "static"
SWAGGER_FILES = ("swagger-ui-bundle.js", "swagger-ui.css")

router = APIRouter(include_in_schema=False)

_DOCS = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><title>API documentation: children's information-sharing index</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css"></head>
<body>
<div id="swagger-ui"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/start.js"></script>
</body>
</html>
"""

_START = """window.ui = SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  deepLinking: true,
  presets: [SwaggerUIBundle.presets.apis],
  layout: "BaseLayout",
});
"""


def _page(request: Request, html: str) -> Response:
    response = HTMLResponse(html)
    secured(response, nonce=secrets.token_urlsafe(16), settings=request.app.state.settings)
    return response


@router.get("/docs")
async def docs(request: Request) -> Response:
    response = _page(request, _DOCS)
    csp = response.headers["Content-Security-Policy"]
    response.headers["Content-Security-Policy"] = csp.replace(
        "img-src 'self'", "img-src 'self' data:"
    )
    return response


@router.get("/docs/start.js")
async def start_script() -> Response:
    return Response(_START, media_type="text/javascript")


def mount_docs(app: FastAPI) -> None:
    app.include_router(router)
    # Only the two files the page loads, from the package's folder.
    assets = StaticFiles(directory=SWAGGER_STATIC)
    app.mount("/docs/assets", _Only(assets, SWAGGER_FILES), name="docs-assets")


class _Only:
    """A static-files app that serves only the named files (the package also ships the
    Swagger Editor, which the service does not offer)."""

    def __init__(self, app: StaticFiles, names: tuple[str, ...]) -> None:
        self.app = app
        self.names = frozenset(names)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if str(scope["path"]).rsplit("/", 1)[-1] not in self.names:
            await PlainTextResponse("Not found", status_code=404)(scope, receive, send)
            return
        await self.app(scope, receive, send)
