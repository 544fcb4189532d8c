"""End-to-end fixtures: the real portal in its own process, and the system Chromium driven by Playwright.

The live server is a subprocess started through the real CLI (``flask --app portal ...``) with its own
SQLite file and ``PORTAL_*`` settings. It never imports the app into the test process, so it cannot
disturb the ``db`` singleton that the other tests bind to their own engine.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# Screenshots of the pages the browser tests check, to look at after a run (at 360 px and on a desktop).
SCREENSHOTS = Path(os.environ.get("PORTAL_E2E_SCREENSHOTS", "/tmp/portal-e2e-screenshots"))
STARTUP_TIMEOUT = 20.0
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@dataclass
class LiveServer:
    """A running portal: its address, its environment, and the CLI to talk to its database."""

    url: str
    env: dict[str, str]
    log_path: Path
    _links: dict[str, str] = field(default_factory=dict)

    def flask(self, *args: str) -> str:
        """Run ``flask --app portal <args>`` against this server's database; return what it printed."""
        result = subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
            [sys.executable, "-m", "flask", "--app", "portal", *args],
            cwd=PROJECT_ROOT,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        if result.returncode != 0:
            pytest.fail(
                f"`flask --app portal {' '.join(args)}` failed with exit code {result.returncode}:\n"
                f"{result.stdout}\n{result.stderr}",
                pytrace=False,
            )
        return result.stdout

    def link_path(self, customer_ref: str) -> str:
        """The path (``/p/<token>``) of a personal link for the customer, made once per session via the CLI."""
        if customer_ref not in self._links:
            output = self.flask("links", "create", customer_ref).strip()
            prefix = f"{self.url}/p/"
            assert output.startswith(prefix), f"`links create` printed an unexpected URL: {output!r}"
            self._links[customer_ref] = output.removeprefix(self.url)
        return self._links[customer_ref]

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _server_env(database_url: str, base_url: str) -> dict[str, str]:
    # Nothing from the caller's PORTAL_* or FLASK_* settings may leak in: the server runs exactly as configured here.
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PORTAL_", "FLASK_"))}
    env.update(
        PORTAL_DATABASE_URL=database_url,
        PORTAL_SECRET_KEY="e2e-secret-key-that-is-long-enough-for-signing-cookies",
        PORTAL_BASE_URL=base_url,
        PORTAL_LINK_RATE_LIMIT="10000 per minute",
        PORTAL_DEMO_PAYMENTS="on",
        # Several tests ask for a fresh link for the same demo customer in one run; the limit of 3 a day
        # has tests of its own (tests/links/test_fresh_link_requests.py).
        PORTAL_FRESH_LINKS_PER_DAY="1000",
        # Page views written in the request, so a staff page read right after a debtor's visit shows it
        # (in production they may come up to a second later); the write-behind has tests of its own.
        PORTAL_PAGE_VIEW_FLUSH_SECONDS="0",
        PYTHONUNBUFFERED="1",
    )
    return env


def _wait_until_healthy(process: subprocess.Popen[bytes], url: str, server: LiveServer) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT
    last_error = "no answer yet"
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"The portal exited with code {process.returncode} while starting:\n{server.log()}", pytrace=False
            )
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
                last_error = f"HTTP {response.status}"
        except (urllib.error.URLError, OSError) as error:
            last_error = str(error)
        time.sleep(0.1)
    pytest.fail(f"The portal did not answer /healthz within {STARTUP_TIMEOUT:.0f} s ({last_error}):\n{server.log()}")


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """The portal with the demo data, served by ``flask run`` in a subprocess on a free local port."""
    directory = Path(tmp_path_factory.mktemp("e2e"))
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    server = LiveServer(
        url=url, env=_server_env(f"sqlite:///{directory / 'portal.sqlite3'}", url), log_path=directory / "server.log"
    )
    server.flask("db", "upgrade")
    server.flask("demo", "load")

    log: IO[bytes] = server.log_path.open("wb")
    process = subprocess.Popen(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, "-m", "flask", "--app", "portal", "run", "--host", "127.0.0.1", "--port", str(port)],
        cwd=PROJECT_ROOT,
        env=server.env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        _wait_until_healthy(process, url, server)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    manager = sync_playwright().start()
    try:
        yield manager
    finally:
        manager.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    executable = shutil.which("chromium")
    if executable is None:
        pytest.fail(
            "The end-to-end tests need the system Chromium, but no `chromium` is on PATH. "
            "Install it (Debian: `apt-get install chromium`) and run the tests again.",
            pytrace=False,
        )
    browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture()
def new_context(browser: Browser, live_server: LiveServer) -> Iterator[Callable[..., BrowserContext]]:
    """Make fresh browser contexts (no cookies) aimed at the live server; all are closed after the test."""
    contexts: list[BrowserContext] = []

    def make(**options: object) -> BrowserContext:
        options.setdefault("base_url", live_server.url)
        context = browser.new_context(**options)  # type: ignore[arg-type]
        context.set_default_timeout(5_000)
        contexts.append(context)
        return context

    try:
        yield make
    finally:
        for context in contexts:
            context.close()


@pytest.fixture()
def page(new_context: Callable[..., BrowserContext]) -> Page:
    """A page in a fresh context, as a first-time visitor with a Dutch-speaking browser sees it."""
    return new_context(locale="nl-NL").new_page()
