"""The `index-service` command line, run against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from index_service.access.tokens import TokenVerifier
from index_service.cli import app
from index_service.demo.cases import STORY_CHILDREN
from index_service.settings import Settings, get_settings
from tests.factories import Factory

runner = CliRunner()


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, settings: Settings) -> Iterator[Settings]:
    monkeypatch.setenv("DATABASE_URL", str(settings.database_url))
    monkeypatch.setenv("DATA_DIR", str(settings.data_dir))
    get_settings.cache_clear()
    yield get_settings()
    get_settings.cache_clear()


def test_token_mints_a_token_the_service_accepts(cli_env: Settings, factory: Factory) -> None:
    factory.organisation(code="DEMO-HRY-01")
    result = runner.invoke(
        app,
        [
            "token",
            "--sub",
            "sw-7",
            "--name",
            "Sam Worker",
            "--org",
            "demo-hry-01",
            "--role",
            "social_worker",
            "--role",
            "practitioner",
            "--ttl",
            "900",
        ],
    )
    assert result.exit_code == 0, result.output
    claims = TokenVerifier.from_settings(cli_env).verify(result.output.strip())
    assert (claims.subject, claims.organisation_code) == ("sw-7", "DEMO-HRY-01")
    assert claims.roles == ["social_worker", "practitioner"]


def test_token_refuses_a_misspelt_role_and_lists_the_roles(cli_env: Settings) -> None:
    args = ["token", "--sub", "a", "--name", "A", "--org", "X1", "--role", "practitioner"]
    result = runner.invoke(app, [*args[:-1], "practicioner"])
    assert result.exit_code == 2
    assert "'practicioner' is not one of" in result.output
    assert "social_worker" in result.output
    help_text = runner.invoke(app, ["token", "--help"], env={"COLUMNS": "400"}).output
    assert "One of: practitioner, social_worker, designated_manager, data_manager" in help_text


def test_token_refuses_an_organisation_the_index_does_not_hold(
    cli_env: Settings, factory: Factory
) -> None:
    args = ["token", "--sub", "a", "--name", "A", "--role", "practitioner", "--org"]
    result = runner.invoke(app, [*args, "DEMO-EAL-99"])
    assert result.exit_code == 2
    assert "no organisation has the code 'DEMO-EAL-99'" in result.stderr
    assert result.stdout == ""  # no token
    factory.organisation(code="DEMO-EAL-99", type="emergency_department")
    assert runner.invoke(app, [*args, "demo-eal-99"]).exit_code == 0


def test_token_refuses_a_lifetime_over_an_hour(cli_env: Settings) -> None:
    result = runner.invoke(
        app,
        [
            "token",
            "--sub",
            "a",
            "--name",
            "A",
            "--org",
            "X1",
            "--role",
            "practitioner",
            "--ttl",
            "7200",
        ],
    )
    assert result.exit_code != 0


def test_token_is_refused_when_the_development_issuer_is_off(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DEV_ISSUER_ENABLED", "false")
    get_settings.cache_clear()
    result = runner.invoke(
        app, ["token", "--sub", "a", "--name", "A", "--org", "X1", "--role", "practitioner"]
    )
    assert result.exit_code == 2


def test_seed_demo_loads_synthetic_data_once(cli_env: Settings, factory: Factory) -> None:
    result = runner.invoke(app, ["seed-demo", "--children", "30", "--once"])
    assert result.exit_code == 0, result.output
    assert f"30 generated children and the story's {len(STORY_CHILDREN)}" in result.output
    assert factory.count("child") == 30 + len(STORY_CHILDREN)
    assert factory.count("organisation") > 3 * 10
    loaded = {table: factory.count(table) for table in ("involvement", "flag", "enquiry")}
    again = runner.invoke(app, ["seed-demo", "--children", "30", "--once"])
    assert "already loaded" in again.output
    assert factory.count("child") == 30 + len(STORY_CHILDREN)
    assert {table: factory.count(table) for table in loaded} == loaded


def test_seed_demo_is_reproducible_and_synthetic(cli_env: Settings, factory: Factory) -> None:
    runner.invoke(app, ["seed-demo", "--children", "20", "--seed", "3"])
    from sqlalchemy import text

    with factory.db.session() as session:
        numbers = session.execute(text("SELECT nhs_number FROM child WHERE nhs_number IS NOT NULL"))
        assert all(n.startswith("999") for (n,) in numbers)  # the NHS test range only


def test_add_organisation_bootstraps_the_first_organisation(
    cli_env: Settings, factory: Factory
) -> None:
    args = [
        "add-organisation",
        "--code",
        "ops-1",
        "--name",
        "Index operations",
        "--type",
        "index_operator",
        "--local-authority",
        "E09000009",
    ]
    assert runner.invoke(app, args).exit_code == 0
    assert factory.count("organisation") == 1
    [event] = factory.audit_rows()  # an administrative act at the console is audited too
    assert (event["action"], event["route"]) == (
        "admin:organisation:create",
        "cli:add-organisation",
    )
    assert event["detail"]["code"] == "OPS-1"
    duplicate = runner.invoke(app, args)
    assert duplicate.exit_code == 1
    bad = runner.invoke(app, [*args[:-1], "not-a-code"])
    assert bad.exit_code == 2


def test_migrate_brings_an_empty_database_to_head(
    cli_env: Settings, monkeypatch: pytest.MonkeyPatch, scratch_database: str
) -> None:
    monkeypatch.setenv("DATABASE_URL", scratch_database)
    get_settings.cache_clear()
    result = runner.invoke(app, ["migrate"])
    assert result.exit_code == 0, result.output
    assert "at head" in result.output


def test_openapi_check_passes_on_the_committed_document() -> None:
    result = runner.invoke(app, ["openapi", "--check"])
    assert result.exit_code == 0, result.output


def test_two_migrates_at_once_both_succeed(settings: Settings, scratch_database: str) -> None:
    """A second `migrate` waits for the first (an advisory lock) and finds the schema at
    head, rather than failing on objects the first one made."""
    env = {**os.environ, "DATABASE_URL": scratch_database, "DATA_DIR": str(settings.data_dir)}
    command = [str(Path(sys.executable).parent / "index-service"), "migrate"]
    both = [
        subprocess.Popen(
            command, env=env, text=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=300)[0] for process in both]
    for process, output in zip(both, outputs, strict=True):
        assert process.returncode == 0, output
        assert "at head" in output


def test_add_organisation_lists_the_types_and_refuses_another_plainly(
    cli_env: Settings, factory: Factory
) -> None:
    help_text = runner.invoke(app, ["add-organisation", "--help"], env={"COLUMNS": "400"}).output
    assert "one of: childrens_social_care, gp_practice, health_visiting" in help_text
    args = ["add-organisation", "--code", "x-1", "--name", "X", "--local-authority", "E09000009"]
    result = runner.invoke(app, [*args, "--type", "hospitl"])
    assert result.exit_code == 2
    assert "'hospitl' is not one of" in result.output
    assert "pydantic" not in result.output
    bad_code = runner.invoke(app, [*args[:2], "x 1", *args[3:], "--type", "hospital"])
    assert bad_code.exit_code == 2
    assert bad_code.stderr.startswith("--code: ")
    assert "pydantic" not in bad_code.output
    assert factory.count("organisation") == 0


def test_add_organisation_refuses_childrens_social_care_without_both_phones_and_unknown_codes(
    cli_env: Settings, factory: Factory
) -> None:
    args = ["add-organisation", "--code", "csc-1", "--name", "Front Door"]
    args += ["--type", "childrens_social_care", "--local-authority", "E09000009"]
    phones = ["--phone", "020 7946 0311", "--out-of-hours-phone", "020 7946 0399"]
    assert runner.invoke(app, [*args, "--phone", "020 7946 0311"]).exit_code == 2
    unknown = [*args[:-1], "E09000099", *phones]
    assert runner.invoke(app, unknown).exit_code == 2
    assert factory.count("organisation") == 0
    assert runner.invoke(app, [*args, *phones, "--email", "mash@ealing.example"]).exit_code == 0
    assert factory.count("organisation") == 1
