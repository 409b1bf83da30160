"""`index-service import FILE`: a feed from a file, run against the test database."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from index_service.cli import app
from index_service.settings import Settings, get_settings
from tests.factories import EALING, Factory
from tests.feeds.conftest import STANDARD_ROW, csv_of, index_state

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[Settings]:
    monkeypatch.setenv("DATABASE_URL", str(settings.database_url))
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_import_applies_a_feed_file_and_again_changes_nothing(
    cli_env: Settings, factory: Factory, tmp_path: Path
) -> None:
    agency = factory.organisation(type="school", local_authority=EALING)
    feed = tmp_path / "feed.csv"
    feed.write_bytes(
        csv_of(
            [
                STANDARD_ROW,
                {**STANDARD_ROW, "source_record_id": "BAD", "nhs_number": "1234567890"},
            ]
        )
    )
    report = tmp_path / "report.json"
    args = ["import", str(feed), "--organisation", agency.code, "--report", str(report)]

    first = runner.invoke(app, args)

    assert first.exit_code == 0, first.output
    assert "created 1" in first.output
    assert "rejected 1" in first.output
    written = json.loads(report.read_text())
    assert [r["outcome"] for r in written["rows"]] == ["created", "rejected"]
    assert written["rows"][1]["problems"][0]["field"] == "nhs_number"
    assert factory.count("child") == 1
    events = factory.audit_rows()
    assert [(e["action"], e["route"]) for e in events] == [
        ("child:feed:apply", "cli:import"),
        ("child:feed:submit", "cli:import"),
    ]
    assert events[1]["organisation"] == agency.code
    assert events[1]["detail"]["counts"]["created"] == 1
    before = index_state(factory)

    second = runner.invoke(app, args)

    assert second.exit_code == 0, second.output
    assert "unchanged 1" in second.output
    assert index_state(factory) == before


def test_import_refuses_an_unknown_organisation_and_format(
    cli_env: Settings, factory: Factory, tmp_path: Path
) -> None:
    feed = tmp_path / "feed.csv"
    feed.write_bytes(csv_of([STANDARD_ROW]))
    unknown = runner.invoke(app, ["import", str(feed), "--organisation", "NOPE1"])
    assert unknown.exit_code == 1
    assert "no organisation" in unknown.output
    odd = tmp_path / "feed.xml"
    odd.write_bytes(b"<x/>")
    assert runner.invoke(app, ["import", str(odd), "--organisation", "NOPE1"]).exit_code == 2
    assert factory.count("child") == 0
