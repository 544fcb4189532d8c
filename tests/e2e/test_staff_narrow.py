"""The staff area on a phone (360 px) and a desktop: a header that leaves the page its first screen, a menu that
opens without script, and a customer's payments as plain cards with a refund field like any other field."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_staff_journey import (  # noqa: F401 - the staff log-in fixtures, shared with the staff tests
    DemoData,
    StaffPage,
    demo_data,
    open_customer,
    run_axe,
    staff_accounts,
    staff_page,
)

pytestmark = pytest.mark.e2e

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def _shot(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _payment_looks(page: Page) -> None:
    """No list bullets before the payment cards or their allocations; the refund amount a full-size field."""
    markers = page.evaluate(
        """() => [...document.querySelectorAll('main .payment-list > li, main .allocation-list > li')]
                 .map((li) => getComputedStyle(li).listStyleType)"""
    )
    assert markers and set(markers) == {"none"}, markers
    field = page.locator("main form.refund-form input[name='amount']").first
    box = field.bounding_box()
    assert box is not None and box["height"] >= 44 and box["width"] >= 120, box
    assert field.evaluate("(el) => parseFloat(getComputedStyle(el).borderTopWidth)") >= 2


@pytest.mark.parametrize("language", ["nl", "en"])
def test_on_a_phone_the_header_is_one_line_and_the_menu_opens_without_script(
    staff_page: StaffPage,  # noqa: F811
    demo_data: DemoData,  # noqa: F811 - fixtures imported above
    language: str,
) -> None:
    page = staff_page("supervisor", language)
    page.set_viewport_size(PHONE)
    customer = open_customer(page, demo_data, "C-1007")
    header = page.locator("header.staff-header").bounding_box()
    assert header is not None and header["height"] <= 100, f"the header takes {header} of a 740 px screen"
    menu = page.locator("details.staff-fold")
    assert menu.get_by_role("link", name="Klanten" if language == "nl" else "Customers").is_hidden()
    _payment_looks(page)
    _shot(page, f"staff-customer-{language}-360")

    menu.locator("summary").click()
    imports = "Importeren" if language == "nl" else "Imports"
    assert menu.get_by_role("link", name=imports, exact=True).is_visible()
    assert menu.get_by_role("button", name="Uitloggen" if language == "nl" else "Log out").is_visible()
    run_axe(page, f"the customer's page with the menu open at 360 px in {language}")
    _shot(page, f"staff-menu-open-{language}-360")

    # A refund's confirmation: its button on the first screen.
    menu.locator("summary").click()
    card = page.locator("main .payment-card").filter(has=page.locator("form.refund-form")).first
    card.locator("input[name='amount']").fill("1,00")
    card.locator("form.refund-form button").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text().endswith(f"{customer['name']}?")
    confirm = page.locator("main form.button-row button.button-danger").bounding_box()
    assert confirm is not None and confirm["y"] + confirm["height"] <= PHONE["height"], confirm
    run_axe(page, f"the refund confirmation at 360 px in {language}")
    _shot(page, f"staff-refund-confirm-{language}-360")


@pytest.mark.parametrize("language", ["nl", "en"])
def test_on_a_desktop_the_menu_is_a_row_of_links(
    staff_page: StaffPage,  # noqa: F811
    demo_data: DemoData,  # noqa: F811 - fixtures imported above
    language: str,
) -> None:
    page = staff_page("supervisor", language)
    page.set_viewport_size(DESKTOP)
    open_customer(page, demo_data, "C-1007")
    assert page.locator("details.staff-fold").is_hidden()
    imports = "Importeren" if language == "nl" else "Imports"
    assert page.locator("nav.staff-nav").get_by_role("link", name=imports, exact=True).is_visible()
    _payment_looks(page)
    run_axe(page, f"the customer's page at 1280 px in {language}")
    _shot(page, f"staff-customer-{language}-1280")
