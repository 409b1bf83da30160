"""The pages in the service's own FastAPI app: their routers (left out of the OpenAPI
document) and GOV.UK Frontend's assets under `/assets`, copied from the npm package by
`make assets` into `web/static/` (nothing is fetched at run time)."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from index_service.web import (
    admin,
    auditing,
    feed_reviews,
    merges,
    pages,
    practice,
    records,
    sign_in,
    work,
)

STATIC = Path(__file__).resolve().parent / "static"


def mount_pages(app: FastAPI) -> None:
    app.include_router(sign_in.router)
    app.include_router(pages.router)
    app.include_router(work.router)
    app.include_router(practice.router)
    app.include_router(feed_reviews.router)  # before `/records/{child_id}`
    app.include_router(merges.router)
    app.include_router(records.router)
    app.include_router(auditing.router)
    app.include_router(admin.router)
    app.mount("/assets", StaticFiles(directory=STATIC, check_dir=False), name="assets")
