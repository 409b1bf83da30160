"""The committed OpenAPI document is what the app generates."""

from __future__ import annotations

from pathlib import Path

from index_service.openapi_doc import render_openapi

COMMITTED = Path(__file__).resolve().parent.parent / "openapi" / "openapi.json"


def test_the_committed_openapi_document_is_current() -> None:
    assert COMMITTED.read_text() == render_openapi(), "run `index-service openapi` and commit"
