"""Direct debit in a real browser, as the issue's "done when" puts it: a customer on direct debit on the 1st
moves to the 25th, confirms with the code from "Sent messages", and sees the new next debits; on a 360 px
phone and on a desktop, with axe-core finding nothing on the pages on the way.

Demo customers used (see portal/demo.py): C-1013 Anouk Smit (Dutch), on direct debit on the 1st; only this
test changes her collection day (the demo allows two changes a year). C-1009 Daan Mulder, whose debit fails
with AM04: his choices are looked at, never made.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_staff_journey import (  # noqa: F401 - the staff log-in fixtures, shared with the staff tests
    AXE_OPTIONS,
    DemoData,
    demo_data,
    staff_accounts,
    staff_page,
)

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

NewContext = Callable[..., BrowserContext]
ANOUK = "C-1013"
PHONE, DESKTOP = {"width": 360, "height": 780}, {"width": 1280, "height": 900}
CODE_LINE = re.compile(r"^\s*(\d{6})\s*$", re.MULTILINE)


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def check_page(page: Page, name: str, width: int) -> None:
    """No accessibility problem, nothing wider than the screen, and a screenshot to look at afterwards."""
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{name} ({page.url}):\n{results.generate_report()}"
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= width, f"{name} is {overflow} px wide on a {width} px screen"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"direct-debit-{name}-{width}.png", full_page=True)


def code_from_sent_messages(staff: Page, email: str) -> str:
    """Staff's "Sent messages": the newest code e-mail to ``email``, opened, its six digits read."""
    staff.goto("/staff/messages/")
    deadline = time.monotonic() + 15
    rows = staff.locator("main table tbody tr").filter(has_text=email).filter(has_text=re.compile("code", re.I))
    while rows.count() == 0 and time.monotonic() < deadline:
        staff.wait_for_timeout(250)
        staff.reload()
    assert rows.count() >= 1, f"no code e-mail to {email} under Sent messages:\n{staff.locator('main').inner_text()}"
    rows.first.get_by_role("link").click()
    match = CODE_LINE.search(staff.locator("main pre.message-text").inner_text())
    assert match, f"no six-digit code in the e-mail:\n{staff.locator('main pre.message-text').inner_text()}"
    return match.group(1)


def test_a_customer_moves_her_collection_day_with_the_code_from_sent_messages(
    live_server: LiveServer,
    new_context: NewContext,
    staff_page: Callable[..., Page],  # noqa: F811
    demo_data: DemoData,  # noqa: F811 - fixtures imported above
) -> None:
    anouk = demo_data.customer(ANOUK)
    page = new_context(locale="nl-NL", viewport=PHONE).new_page()
    page.goto(live_server.link_path(ANOUK))
    assert path_of(page) == "/overview"
    section = page.locator("main section.direct-debit")
    assert section.count() == 1, "the overview shows her direct debit"
    assert "**** " in section.inner_text(), "the IBAN is shown masked"
    check_page(page, "overview", PHONE["width"])

    section.locator("a[href='/direct-debit/day']").click()
    assert path_of(page) == "/direct-debit/day"
    check_page(page, "choose-day", PHONE["width"])
    page.locator("main select#day").select_option("25")
    page.locator("main form button[type='submit']").click()
    assert path_of(page) == "/direct-debit/day/preview"
    page.wait_for_load_state()
    rows = page.locator("main table.compare tbody tr")
    assert rows.count() == 3, "the next three debits, before and after side by side"
    assert any(re.search(r"\b25\b", rows.nth(i).locator("td").nth(1).inner_text()) for i in range(3))
    check_page(page, "preview", PHONE["width"])

    page.locator("main form[action='/direct-debit/day/code'] button[type='submit']").first.click()
    assert path_of(page) == "/direct-debit/day/confirm"
    check_page(page, "code", PHONE["width"])

    # A viewer, who may not create links, sees the code's place marked; an agent reads it (no mail server here,
    # so the message is kept, not sent, and staff read it for the customer).
    viewer = staff_page("viewer", "en")
    with pytest.raises(AssertionError, match="no six-digit code"):
        code_from_sent_messages(viewer, anouk["email"])
    assert "hidden from staff" in viewer.locator("main pre.message-text").inner_text()
    code = code_from_sent_messages(staff_page("agent", "en"), anouk["email"])
    page.locator("main input#code").fill(code)
    page.locator("main form[action^='/direct-debit/day/confirm'] button[type='submit']").click()
    assert path_of(page) == "/direct-debit/day/changed", page.locator("main").inner_text()
    assert "25" in page.get_by_role("heading", level=1).inner_text()
    new_dates = page.locator("main table.debit-table tbody tr td:first-child").all_inner_texts()
    assert len(new_dates) == 3 and sum(bool(re.match(r"25\b", text)) for text in new_dates) >= 2, new_dates
    check_page(page, "changed", PHONE["width"])

    # On a desktop: the overview with the new day, and the pages of a further change (not confirmed).
    desktop = new_context(locale="nl-NL", viewport=DESKTOP).new_page()
    desktop.goto(live_server.link_path(ANOUK))
    assert "25" in desktop.locator("main section.direct-debit p").first.inner_text()
    check_page(desktop, "overview", DESKTOP["width"])
    desktop.goto("/direct-debit/day")
    check_page(desktop, "choose-day", DESKTOP["width"])
    desktop.goto("/direct-debit/day/preview?day=15")
    check_page(desktop, "preview", DESKTOP["width"])
    desktop.goto("/direct-debit/stop")
    check_page(desktop, "stop", DESKTOP["width"])


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360", "desktop"])
def test_after_a_failed_debit_the_overview_leads_to_the_choices(
    live_server: LiveServer, new_context: NewContext, viewport: dict[str, int]
) -> None:
    """C-1009 Daan Mulder's account lacks the money (AM04): pay now with iDEAL, or pick a new date. Only looked
    at: the staff tests may look at his failed debit in their queue."""
    live_server.flask("debits", "collect")  # collected already if the scheduler ran; twice collects nothing twice
    page = new_context(locale="nl-NL", viewport=viewport).new_page()
    page.goto(live_server.link_path("C-1009"))
    banner = page.locator("main section.notice")
    assert banner.count() == 1, page.locator("main").inner_text()
    check_page(page, "failed-overview", viewport["width"])
    banner.locator("a.button").click()
    assert re.fullmatch(r"/direct-debit/failed/\d+", path_of(page))
    assert page.locator("main a[href*='method=ideal']").count() == 1, "pay now, with iDEAL chosen"
    assert page.locator("main select#on option").count() >= 1, "dates to try again"
    check_page(page, "failed-choices", viewport["width"])
