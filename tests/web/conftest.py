"""Fixtures for the pages: an app with the development 'sign in as' on, a client that
speaks https (so the `__Host-` cookies, which are Secure, are sent back), and the demo
personas' organisations."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from index_service.database import Database
from index_service.demo.personas import PERSONAS
from index_service.settings import Settings
from tests.factories import EALING, HARINGEY, Factory
from tests.web.browser import chromium

BRENT = "E09000005"
AUTHORITIES = {"EAL": EALING, "HRY": HARINGEY, "BRT": BRENT}
TYPES = {
    "01": "childrens_social_care",
    "05": "emergency_department",
    "11": "school",
    "15": "police",
}


@pytest.fixture(scope="session")
def web_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"dev_sign_in_enabled": True})


@pytest.fixture(scope="session")
def web_app(web_settings: Settings, db: Database) -> FastAPI:
    from index_service.main import create_app

    return create_app(web_settings, db=db)


@pytest.fixture
def browser_client(web_app: FastAPI) -> Iterator[TestClient]:
    with TestClient(
        web_app, base_url="https://testserver", raise_server_exceptions=True, follow_redirects=False
    ) as client:
        yield client


@pytest.fixture
def personas_organisations(factory: Factory) -> dict[str, str]:
    """The organisations the demo personas belong to (codes as seed-demo makes them)."""
    made: dict[str, str] = {}
    for p in PERSONAS:
        code = p.organisation_code
        if code in made or code == "DEMO-OPS":
            continue
        _, area, number = code.split("-")
        factory.organisation(
            code=code,
            type=TYPES[number],
            local_authority=AUTHORITIES[area],
            name=f"Demo {TYPES[number].replace('_', ' ')} {area}",
            contact_phone="020 7946 0100",
            out_of_hours_phone="020 7946 0199",
        )
        made[code] = TYPES[number]
    return made


@pytest.fixture
def browser() -> Iterator[Any]:
    with chromium() as launched:
        yield launched
