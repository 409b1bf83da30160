"""`pip install .` alone, without the dev extra, gives a service and a worker that load:
every module they import at run time is a runtime dependency (it was not: the worker
imported httpx, a test-only package)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# What `serve`, `run` and `worker` import, and what they import in turn when they start.
RUNTIME_IMPORTS = """
import index_service.main, index_service.cli, index_service.alerts.delivery
import index_service.alerts.scheduler, index_service.audit.sealer, index_service.outbound
import index_service.processes.server, index_service.processes.run
app = index_service.main.create_app
print("imported")
"""


@pytest.mark.packaging
def test_the_package_without_its_dev_extra_runs_the_app_and_the_worker(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", str(ROOT)],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert installed.returncode == 0, installed.stderr[-3000:]
    dev_only = subprocess.run(
        [str(python), "-c", "import httpx"], capture_output=True, text=True, timeout=60
    )
    assert dev_only.returncode != 0, "the fresh install should not have test packages"
    loaded = subprocess.run(
        [str(python), "-c", RUNTIME_IMPORTS],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,  # not the source tree: the installed package
    )
    assert loaded.returncode == 0, loaded.stderr[-3000:]
    for command in (["--help"], ["serve", "--help"], ["run", "--help"], ["worker", "--help"]):
        ran = subprocess.run(
            [str(venv / "bin" / "index-service"), *command],
            capture_output=True,
            text=True,
            timeout=120,
            cwd=tmp_path,
        )
        assert ran.returncode == 0, ran.stderr[-3000:]
