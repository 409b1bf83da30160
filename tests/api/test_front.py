"""`/docs` in a real browser (Debian's Chromium): Swagger UI, from the service's own
files, starts under the pages' Content Security Policy and shows every operation, with
no request leaving this machine."""

from __future__ import annotations

import threading
from collections.abc import Iterator

import pytest
import uvicorn
from fastapi import FastAPI

from tests.factories.processes import free_port
from tests.web.browser import chromium, loopback_only


@pytest.fixture
def served_app(app: FastAPI) -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        while not server.started:
            thread.join(0.05)
            assert thread.is_alive(), "the server did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def test_the_api_docs_work_in_a_browser_under_the_csp_with_nothing_fetched_elsewhere(
    served_app: str, app: FastAPI
) -> None:
    operations = sum(len(ops) for ops in app.openapi()["paths"].values())
    with chromium() as browser:
        context = browser.new_context()
        loopback_only(context)
        page = context.new_page()
        refused: list[str] = []
        page.on("console", lambda message: refused.append(message.text))
        elsewhere: list[str] = []
        page.on(
            "request",
            lambda request: (
                None
                if request.url.startswith((served_app, "data:"))
                else elsewhere.append(request.url)
            ),
        )
        page.goto(f"{served_app}/docs")
        page.wait_for_selector(".opblock")
        assert page.locator(".opblock").count() == operations
        page.locator(".opblock-summary", has_text="/v1/enquiries").first.click()
        page.wait_for_selector("text=application/problem+json")
        context.close()
    assert not [m for m in refused if "Content Security Policy" in m], refused
    assert not elsewhere
