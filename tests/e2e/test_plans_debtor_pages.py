"""The debtor's plan-and-promise pages in a real browser, on a 360 px phone and a desktop: the overview's
ways to more time and help, the promise form (a date outside the window refused in the page's language),
and the "I cannot pay" page, each axe-clean and never wider than the screen.

Demo customer used (see portal/demo.py): C-1019 (Dutch, in difficulty), who always has several overdue
invoices. Nothing is saved for her: the other browser tests read her overview as it is.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_debtor_journey import AXE_OPTIONS

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

NewContext = Callable[..., BrowserContext]
IN_DIFFICULTY = "C-1019"
PHONE, DESKTOP = {"width": 360, "height": 780}, {"width": 1280, "height": 900}


def check_page(page: Page, name: str, width: int) -> None:
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{name} ({page.url}):\n{results.generate_report()}"
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= width, f"{name} is {overflow} px wide on a {width} px screen"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"plans-{name}-{width}.png", full_page=True)


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["phone", "desktop"])
def test_more_time_promise_and_cannot_pay_pages(new_context: NewContext, live_server: LiveServer, viewport) -> None:
    page = new_context(viewport=viewport).new_page()
    page.goto(live_server.link_path(IN_DIFFICULTY))
    width = viewport["width"]
    check_page(page, "overview", width)
    page.get_by_role("link", name="Ik kan betalen, maar iets later").first.click()
    assert page.url.endswith("/promise")
    check_page(page, "promise", width)
    too_late = (datetime.now(UTC).date() + timedelta(days=60)).isoformat()
    # A date input would refuse to send a date past its max; the server refuses it too, in Dutch.
    page.locator("#promised_on").evaluate(f"(input) => {{ input.removeAttribute('max'); input.value = '{too_late}'; }}")
    page.get_by_role("button", name="Ik beloof te betalen").click()
    assert "Je belofte is niet opgeslagen" in page.locator("main").inner_text()
    check_page(page, "promise-refused", width)
    page.goto("/cannot-pay")
    text = page.locator("main").inner_text()
    assert "schuldhulpverlening" in text and "geldfit.nl" in text
    check_page(page, "cannot-pay", width)
