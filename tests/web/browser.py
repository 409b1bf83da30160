"""Real processes for the browser tests: Debian's Chromium driven by Playwright, the
served app (`index-service serve`), and the OpenID provider (`oidc_provider.mjs` on
node). Without a browser the tests skip locally and fail under CI (env `CI`)."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from index_service.settings import Settings
from tests.factories.processes import BIN
from tests.factories.processes import free_port as _free_port
from tests.factories.processes import wait_for_line as _wait_for_line

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
OP_SCRIPT = Path(__file__).with_name("oidc_provider.mjs")
CLIENT_ID = "index-service-test"
CLIENT_SECRET = "op-test-secret-not-a-real-one"


def need_browser() -> None:
    missing = [str(p) for p in (CHROMIUM, AXE) if not p.exists()]
    if shutil.which("node") is None:
        missing.append("node")
    if missing:
        message = f"browser tests need {', '.join(missing)} (apt-get install chromium; make assets)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


@dataclass
class Provider:
    issuer: str
    process: subprocess.Popen[str]


@dataclass
class Served:
    base: str
    process: subprocess.Popen[str]


def start_provider(port: int, redirect_uri: str, accounts: dict[str, Any]) -> Provider:
    env = {
        **os.environ,
        "OP_PORT": str(port),
        "OP_CLIENT_ID": CLIENT_ID,
        "OP_CLIENT_SECRET": CLIENT_SECRET,
        "OP_REDIRECT_URI": redirect_uri,
        "OP_ACCOUNTS": json.dumps(accounts),
        "NODE_PATH": str(ROOT / "node_modules"),
    }
    process = subprocess.Popen(
        [shutil.which("node") or "node", str(OP_SCRIPT)],
        env=env,
        cwd=ROOT,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    said: list[str] = []
    listening = threading.Event()

    def read() -> None:  # node writes several lines at once: read them all, as they come
        assert process.stdout is not None
        for line in process.stdout:
            said.append(line)
            if "listening" in line:
                listening.set()

    threading.Thread(target=read, daemon=True).start()
    if not listening.wait(timeout=30):
        stop(process)
        raise AssertionError(f"the OpenID provider did not start: {''.join(said)[-3000:]}")
    return Provider(issuer=f"http://127.0.0.1:{port}", process=process)


def trusted_issuer(provider_issuer: str, organisations: list[str]) -> dict[str, Any]:
    """The provider as the operator would configure it: CIS2-style role codes mapped."""
    return {
        "issuer": provider_issuer,
        "jwks_url": f"{provider_issuer}/jwks",
        "organisations": organisations,
        "oidc": {
            "display_name": "Test NHS Trust",
            "discovery_url": f"{provider_issuer}/.well-known/openid-configuration",
            "client_id": CLIENT_ID,
            "client_secret_env": "TEST_OIDC_CLIENT_SECRET",
            "scopes": ["openid", "profile", "email", "organisation"],
            "claims": {
                "organisation": "org_code",
                "roles": "nhsid_nrbac_roles",
                "roles_field": "role_code",
                "role_values": {"R8000": "practitioner"},
            },
        },
    }


def serve(settings: Settings, port: int, **environment: str) -> Served:
    env = {
        **os.environ,
        "DATABASE_URL": str(settings.database_url),
        "DATA_DIR": str(settings.data_dir),
        "PORT": str(port),
        "PUBLIC_URL": f"http://127.0.0.1:{port}",
        "DEV_SIGN_IN_ENABLED": "true",
        "RATE_LIMIT_SEARCHES": "1000",
        "RATE_LIMIT_READS": "1000",
        "TEST_OIDC_CLIENT_SECRET": CLIENT_SECRET,
        **environment,
    }
    process = subprocess.Popen(
        [str(BIN / "index-service"), "serve", "--port", str(port)],
        env=env,
        text=True,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    _wait_for_line(process, "Application startup complete", timeout=60)
    # Keep reading what it logs, so that a long journey never fills the pipe and stalls it.
    threading.Thread(target=_drain, args=(process,), daemon=True).start()
    return Served(base=f"http://127.0.0.1:{port}", process=process)


def _drain(process: subprocess.Popen[str]) -> None:
    assert process.stdout is not None
    for _ in process.stdout:
        pass


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGINT)
    try:
        process.wait(timeout=30)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@dataclass
class Journey:
    """A browser page that remembers every URL it requested or navigated to, and runs
    axe-core on each page it is asked to check."""

    page: Any
    base: str
    urls: list[str] = field(default_factory=list)
    checked: list[str] = field(default_factory=list)

    def watch(self) -> None:
        self.page.on("request", lambda request: self.urls.append(request.url))
        self.page.on("framenavigated", lambda frame: self.urls.append(frame.url))

    def accessible(self) -> None:
        """axe-core's WCAG 2.x A/AA rules (2.2 included): no violations. Run on the page
        once it has loaded and has its main content (a check run on a document still
        being replaced after a form's redirect saw an empty one)."""
        self.page.wait_for_load_state("load")
        self.page.locator("main").first.wait_for(state="attached")
        self.page.evaluate(AXE.read_text())  # evaluated by the devtools protocol, not CSP-bound
        result = self.page.evaluate(
            """async () => {
                const r = await axe.run(document, {runOnly: {type: 'tag', values:
                    ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice']}});
                return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                    nodes: v.nodes.map(n => n.target.join(' ')).slice(0, 5)}));
            }"""
        )
        assert result == [], f"axe on {self.page.url}: {json.dumps(result, indent=1)}"
        self.checked.append(self.page.url)

    def history(self) -> list[str]:
        """The tab's session history as the browser keeps it (what Back would revisit)."""
        cdp = self.page.context.new_cdp_session(self.page)
        entries = cdp.send("Page.getNavigationHistory")["entries"]
        return [str(e["url"]) for e in entries] + [str(e.get("title", "")) for e in entries]


@contextlib.contextmanager
def chromium() -> Iterator[Any]:
    """Debian's Chromium under Playwright (never a browser Playwright downloads)."""
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            yield launched
        finally:
            launched.close()


def loopback_only(context: Any) -> None:
    """Requests anywhere but this machine are refused in the browser (the provider's
    development login page asks for a web font): the tests reach nothing outside."""

    def route(route: Any) -> None:
        if route.request.url.startswith(("http://127.0.0.1:", "data:", "about:")):
            route.continue_()
        else:
            route.abort()

    context.route("**/*", route)


def free_ports(n: int) -> list[int]:
    """`n` distinct free ports on loopback."""
    ports: set[int] = set()
    while len(ports) < n:
        ports.add(_free_port())
    return sorted(ports)


def free_port() -> int:
    return _free_port()
