"""The README's Quick start, run as written: its shell block, taken from between the
README's markers, runs twice with bash against a served instance (`index-service serve`
on the demo data, as `make run` leaves it), and each command's output is the one the
README shows beside it (the second run's create is the 409 the README explains)."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from index_service.settings import Settings
from tests.factories.processes import BIN, ROOT, free_port, wait_for_line

README = ROOT / "README.md"
BASH = shutil.which("bash") or "/bin/bash"
BLOCK = re.compile(r"<!-- quick-start:begin -->\n```sh\n(.*?)```\n<!-- quick-start:end -->", re.S)


def quick_start() -> str:
    found = BLOCK.search(README.read_text())
    assert found is not None, "the README's Quick start block is marked"
    return found.group(1)


@pytest.fixture
def served(settings: Settings, tmp_path: Path) -> Iterator[dict[str, str]]:
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "DATA_DIR": str(settings.data_dir),
        "DEV_ISSUER_ENABLED": "true",
        "PORT": str(port),
        "BASE": f"http://127.0.0.1:{port}",
    }
    seeded = subprocess.run(
        [str(BIN / "index-service"), "seed-demo", "--children", "20", "--once"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert seeded.returncode == 0, seeded.stderr[-2000:]
    process = subprocess.Popen(
        [str(BIN / "index-service"), "serve", "--workers", "1"],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for_line(process, "Application startup complete", timeout=60)
        yield env
    finally:
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=30) == 0


def _run(block: str, env: dict[str, str], where: Path) -> list[str]:
    result = subprocess.run(
        [BASH, "-euo", "pipefail", "-c", block],
        env=env,
        cwd=where,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout.splitlines()


def test_the_quick_start_runs_twice_as_the_readme_says(
    served: dict[str, str], tmp_path: Path
) -> None:
    if shutil.which("curl") is None:
        pytest.fail("the Quick start needs curl (apt-get install curl)")
    # The reader's checkout: `.venv/bin/index-service` and `examples/child.json`.
    (tmp_path / ".venv").symlink_to(BIN.parent)
    (tmp_path / "examples").symlink_to(ROOT / "examples")
    block = quick_start()
    first = _run(block, served, tmp_path)
    assert first == [
        '{"status":"ok"} 200',
        "201",
        'ETag "1"',
        "200",
        "201",
        "match 1 candidate; Elodie",
        "look children up with an enquiry 403",
    ]
    # The comments beside the commands say so too.
    for line in ('# {"status":"ok"} 200', "# 201 the first time", '# ETag "1"', "# 200"):
        assert line in block
    assert "# match 1 candidate; Elodie" in block
    assert "# look children up with an enquiry 403" in block
    again = _run(block, served, tmp_path)
    assert again == [
        '{"status":"ok"} 200',
        "409",  # the duplicate guard: the README says why, and the rest goes on
        'ETag "2"',
        "200",
        "201",
        "match 1 candidate; Elodie",
        "look children up with an enquiry 403",
    ]
    assert "Run again: 409, a `possible_duplicate` problem" in block
