"""Paying through the demo payment provider in a real browser: the debtor chooses invoices and a method, decides
the outcome on the demo provider's hosted page, and sees the status page wait (htmx polling) and thank them;
a failed payment and trying again; and what staff see afterwards (the payment and the receipt).

Every test makes a customer of its own (English, two open invoices, imported through the CLI as an operator
would), so that what one payment settles cannot change what another test, or the other e2e modules, expect; the
debtor's browser speaks English here (the ``page`` fixture below), and the Dutch pages are checked with axe. The
staff side logs in with an agent account of its own, created with ``flask staff create`` and enrolled through the
real pages: the demo staff accounts are enrolled once per session by test_staff_journey.py, which alone knows
their TOTP keys.
"""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from playwright.sync_api import BrowserContext, Locator, Page, expect

from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_debtor_journey import (
    assert_fits_width,
    html_lang,
    open_personal_link,
    path_of,
    run_axe,
    switch_language,
)
from tests.e2e.test_staff_journey import (
    BROWSER_LOCALES,
    DEMO_PASSWORD,
    DemoData,
    current_code,
    message_rows,
    open_customer,
    set_language,
)

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

NewContext = Callable[..., BrowserContext]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
# "Pending, then paid" settles after 4 s at the demo provider; the status page polls every 2 s and asks the
# provider again at most every 2 s. Room enough for that on a slow machine, and never a sleep.
SETTLING_TIMEOUT = 15_000
# Two invoices with one line each: 50.00 + 21% VAT = 60.50 and 20.00 + 21% VAT = 24.20.
INVOICE_LINES = (("Electricity September", "50.00"), ("Gas September", "20.00"))
TOTAL_DUE = "€84.70"
PAYMENT_REFERENCE = re.compile(r"P\d{7}")
DEMO_CHECKOUT = re.compile(r"/demo-checkout/[^/]+$")
STATUS_PAGE = re.compile(r"/payments/[^/]+$")
# The pay button names the amount: "Pay €84.70".
PAY_BUTTON = re.compile(r"^Pay €\d{1,3}(?:,\d{3})*\.\d{2}$")
SHOTS = SCREENSHOTS


# ---------------------------------------------------------------------------------------------- helpers


@dataclass
class Debtor:
    ref: str
    name: str
    email: str
    invoices: tuple[str, ...]


def new_debtor(server: LiveServer, directory: Path) -> Debtor:
    """An English-speaking customer with two open invoices, not yet due, imported with ``flask import``."""
    ref = f"E2E-{uuid.uuid4().hex[:8].upper()}"
    debtor = Debtor(
        ref=ref,
        name="Robin Ashworth",
        email=f"robin.ashworth.{ref.lower()}@example.org",
        invoices=(f"{ref}-1", f"{ref}-2"),
    )
    customers = directory / "customers.csv"
    customers.write_text(
        f"external_ref,name,email,language,kind,country\n{ref},{debtor.name},{debtor.email},en,consumer,NL\n"
    )
    today = date.today()  # noqa: DTZ011 - the portal dates invoices in local time
    rows = [
        f"{ref},{number},{today - timedelta(days=20 - 10 * i)},{today + timedelta(days=10 + 10 * i)},"
        f"{description},1,month,{price},21"
        for i, (number, (description, price)) in enumerate(zip(debtor.invoices, INVOICE_LINES, strict=True))
    ]
    invoices = directory / "invoices.csv"
    header = "customer_ref,invoice_number,issue_date,due_date,description,quantity,unit,unit_price,vat_rate"
    invoices.write_text("\n".join([header, *rows]) + "\n")
    server.flask("import", "customers", str(customers))
    server.flask("import", "invoices", str(invoices))
    return debtor


@pytest.fixture()
def debtor(live_server: LiveServer, tmp_path: Path) -> Debtor:
    return new_debtor(live_server, tmp_path)


@pytest.fixture()
def page(new_context: NewContext) -> Page:
    """Here the English-speaking debtor's browser speaks English too: the demo provider's page is outside the
    debtor's session, so it follows the browser's language (a real provider is told the customer's)."""
    return new_context(locale=BROWSER_LOCALES["en"]).new_page()


def invoice_checkbox(page: Page, number: str) -> Locator:
    return page.locator(f"main form.pay-form input[type='checkbox'][name='invoice'][value='{number}']")


def start_payment(page: Page, server: LiveServer, debtor: Debtor) -> None:
    """From the personal link to the pay page, through the overview's "Pay now"."""
    open_personal_link(page, server, debtor.ref)
    assert html_lang(page) == "en", "an English-speaking customer sees the portal in English"
    assert page.locator(".total-amount").first.inner_text() == TOTAL_DUE
    page.get_by_role("link", name="Pay now", exact=True).click()
    page.wait_for_load_state()
    assert path_of(page) == "/pay", f"Pay now should open the pay page, not {page.url}"


def continue_to_checkout(page: Page) -> None:
    page.get_by_role("button", name=PAY_BUTTON).click()
    page.wait_for_url(DEMO_CHECKOUT)
    assert page.get_by_role("heading", level=1).inner_text() == "Demo payment page"


def choose_outcome(page: Page, outcome: str) -> None:
    """Press one of the demo provider's buttons; the browser comes back to the portal's status page."""
    page.get_by_role("button", name=outcome, exact=True).click()
    page.wait_for_url(STATUS_PAGE)


def run_axe_in_both_languages(page: Page, what: str) -> None:
    """axe-core on this page in English, then in Dutch (the header's language link), and back to English."""
    run_axe(page, f"{what} in English")
    switch_language(page, "nl")
    run_axe(page, f"{what} in Nederlands")
    switch_language(page, "en")


def create_staff_account(server: LiveServer, email: str, role: str) -> None:
    """``flask staff create``, as an operator runs it: the password comes on standard input."""
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own interpreter
        [sys.executable, "-m", "flask", "--app", "portal", "staff", "create", email, "--role", role],
        cwd=PROJECT_ROOT,
        env=server.env,
        input=f"{DEMO_PASSWORD}\n",
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"`flask staff create {email}` failed:\n{result.stdout}\n{result.stderr}"


def new_staff_page(new_context: NewContext, server: LiveServer, role: str) -> Page:
    """A new account of ``role``, logged in for the first time in English: password, second factor, codes."""
    email = f"{role}.{uuid.uuid4().hex[:8]}@zonnig.example"
    create_staff_account(server, email, role)
    context = new_context(locale=BROWSER_LOCALES["en"])
    set_language(context, server, "en")
    page = context.new_page()
    page.goto("/staff/login")
    page.locator("main form input[name='email']").fill(email)
    page.locator("main form input[name='password']").fill(DEMO_PASSWORD)
    page.locator("main form button[type='submit']").click()
    page.wait_for_load_state()
    assert path_of(page) == "/staff/account/two-factor", f"a first log-in should lead to the enrolment, not {page.url}"
    secret = page.locator("#totp-secret").inner_text().strip()
    page.locator("main form input[name='code']").fill(current_code(secret))
    page.locator("main form button[type='submit']").click()
    page.wait_for_load_state()
    assert page.locator("main .recovery-codes li").count() == 10, page.locator("main").inner_text()
    page.locator("main a.button").click()
    page.wait_for_load_state()
    assert path_of(page) == "/staff/dashboard/", f"after the recovery codes: {page.url}"
    return page


# ---------------------------------------------------------------------------------------------- the journey


def test_pay_both_invoices_pending_then_paid(page: Page, live_server: LiveServer, debtor: Debtor) -> None:
    start_payment(page, live_server, debtor)

    # Both open invoices, checked; the whole amount; a way to pay.
    checkboxes = page.locator("main form.pay-form input[type='checkbox'][name='invoice']")
    expect(checkboxes).to_have_count(2)
    for number in debtor.invoices:
        expect(invoice_checkbox(page, number)).to_be_checked()
        expect(page.get_by_label(f"Invoice {number}")).to_be_checked()  # the checkbox is labelled by its invoice
    expect(page.get_by_role("group", name="How much do you want to pay?")).to_be_visible()
    expect(page.locator("main input[name='amount_choice'][value='full']")).to_be_checked()
    for method in ("iDEAL", "Credit or debit card", "Bancontact", "PayPal", "SEPA direct debit"):
        expect(page.locator("main fieldset").get_by_text(method, exact=True)).to_be_visible()
    run_axe_in_both_languages(page, "pay page")
    page.get_by_role("radio", name="iDEAL").check()
    continue_to_checkout(page)

    # The demo provider's hosted page: the amount of both invoices, and what may happen.
    facts = page.locator("main dl.facts").inner_text()
    assert TOTAL_DUE in facts and "iDEAL" in facts, f"the demo page should show the amount and the method:\n{facts}"
    for number in debtor.invoices:
        assert number in facts, f"the description should name invoice {number}:\n{facts}"
    run_axe_in_both_languages(page, "demo checkout page")
    choose_outcome(page, "Pending, then paid after a few seconds")

    # The status page waits; htmx asks every 2 s and, once the verdict is in, the page shows the thank-you
    # by itself (it reloads as a whole, so focus and screen readers start afresh on the news).
    status = page.locator("#payment-status")
    heading = status.get_by_role("heading", level=1)
    expect(heading).to_have_text("We are waiting for your payment to be confirmed")
    expect(status.locator(".status-poller")).to_have_attribute("hx-trigger", "every 2s")
    status_url = page.url
    expect(heading).to_have_text(f"Thank you, {debtor.name}!", timeout=SETTLING_TIMEOUT)
    assert page.url == status_url
    expect(status.locator(".total-amount")).to_have_text(TOTAL_DUE)
    expect(status.get_by_role("heading", name="What this payment settled", exact=True)).to_be_visible()
    settled = status.locator(".settled-list li")
    expect(settled).to_have_count(2)
    for number in debtor.invoices:
        expect(settled.filter(has_text=f"Invoice {number}")).to_contain_text("Paid")
    expect(status.locator(".status-poller")).to_have_count(0)  # nothing left to wait for
    run_axe_in_both_languages(page, "thank-you page")

    # Nothing is left to pay.
    page.get_by_role("link", name="Back to the overview", exact=True).click()
    page.wait_for_load_state()
    assert path_of(page) == "/overview"
    expect(page.locator(".total-line").first).to_have_text("You have nothing to pay right now.")
    expect(page.get_by_role("link", name="Pay now", exact=True)).to_have_count(0)


def test_failed_payment_offers_to_try_again_with_the_same_invoice(
    page: Page, live_server: LiveServer, debtor: Debtor
) -> None:
    first, second = debtor.invoices
    start_payment(page, live_server, debtor)
    invoice_checkbox(page, second).uncheck()
    page.get_by_role("radio", name="Credit or debit card").check()
    continue_to_checkout(page)
    assert "€60.50" in page.locator("main dl.facts").inner_text(), "only the first invoice is being paid"
    choose_outcome(page, "Let the payment fail")

    status = page.locator("#payment-status")
    expect(status.get_by_role("heading", level=1)).to_have_text("Your payment did not go through")
    expect(status).to_contain_text("Nothing has been paid and your invoices are still open.")
    status.get_by_role("link", name="Try again", exact=True).click()
    page.wait_for_load_state()

    assert path_of(page) == "/pay", f"Try again should lead back to the pay page, not {page.url}"
    expect(invoice_checkbox(page, first)).to_be_checked()
    expect(invoice_checkbox(page, second)).not_to_be_checked()
    expect(page.get_by_role("button", name="Pay €60.50", exact=True)).to_be_visible()


def test_staff_see_the_payment_and_the_receipt(
    page: Page, new_context: NewContext, live_server: LiveServer, debtor: Debtor
) -> None:
    start_payment(page, live_server, debtor)
    continue_to_checkout(page)
    choose_outcome(page, "Pay now")
    status = page.locator("#payment-status")
    expect(status.get_by_role("heading", level=1)).to_have_text(f"Thank you, {debtor.name}!")
    found = PAYMENT_REFERENCE.search(status.inner_text())
    assert found, f"the thank-you should give the payment reference:\n{status.inner_text()}"
    reference = found.group()

    staff = new_staff_page(new_context, live_server, "agent")
    open_customer(staff, DemoData(live_server), debtor.ref)
    payments = staff.locator("main section[aria-labelledby='payments']")
    card = payments.locator(".payment-card").filter(has_text=reference)
    expect(card).to_have_count(1)
    expect(card.locator(".payment-head")).to_contain_text("Received")
    expect(card.locator(".payment-head")).to_contain_text(TOTAL_DUE)
    for number in debtor.invoices:
        expect(card.locator(".allocation-list")).to_contain_text(number)

    staff.locator("nav.staff-nav").get_by_role("link", name="Sent messages", exact=True).click()
    staff.wait_for_load_state()
    assert path_of(staff) == "/staff/messages/"
    rows = message_rows(staff, debtor.email)
    expect(rows).to_have_count(1)
    expect(rows.first.get_by_role("link")).to_have_text(f"Thank you for your payment of {TOTAL_DUE}")


# ---------------------------------------------------------------------------------------------- the pay page, live

PHONE = {"width": 360, "height": 740}
DESKTOP = {"width": 1280, "height": 900}


def pay_button(page: Page) -> Locator:
    return page.locator("main form.pay-form button[type='submit']")


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "desktop"])
def test_the_pay_page_follows_the_ticks_and_the_chosen_amount(
    new_context: NewContext, live_server: LiveServer, debtor: Debtor, viewport: dict[str, int]
) -> None:
    page = new_context(locale=BROWSER_LOCALES["en"], viewport=viewport).new_page()
    first, second = debtor.invoices
    start_payment(page, live_server, debtor)
    total = page.locator("main .pay-summary")
    amount_field = page.get_by_label("Amount in EUR")

    # Everything ticked: the total, and the same amount on the button, which a phone shows without scrolling.
    expect(total).to_contain_text(f"To pay {TOTAL_DUE}")
    expect(total).to_contain_text(f"Invoices {first}, {second}")
    expect(pay_button(page)).to_have_accessible_name(f"Pay {TOTAL_DUE}")
    expect(pay_button(page)).to_be_in_viewport()
    expect(amount_field).to_be_hidden()  # only asked for once "Part of it now" is chosen
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"pay-{viewport['width']}.png", full_page=True)

    # One invoice less: the total and the button follow at once, and one invoice is "Invoice".
    invoice_checkbox(page, second).uncheck()
    expect(total).to_contain_text("To pay €60.50")
    expect(total).to_contain_text(f"Invoice {first}")
    expect(total).not_to_contain_text("Invoices")
    expect(pay_button(page)).to_have_accessible_name("Pay €60.50")

    # Switching language keeps the ticks: the Dutch page opens with the one invoice, not both again.
    page.get_by_role("link", name="Nederlands").click()
    expect(page.locator("main .pay-summary")).to_contain_text("Te betalen € 60,50")
    expect(invoice_checkbox(page, second)).not_to_be_checked()
    page.get_by_role("link", name="English").click()
    expect(total).to_contain_text("To pay €60.50")
    expect(invoice_checkbox(page, first)).to_be_checked()

    # Part of it: the field appears and the button names what is typed, in either notation.
    page.get_by_role("radio", name="Part of it now").check()
    expect(amount_field).to_be_visible()
    amount_field.fill("12,50")
    expect(pay_button(page)).to_have_accessible_name("Pay €12.50")
    # The summary says the same: what will be paid, part of the chosen invoice's total.
    expect(total).to_contain_text("To pay €12.50")
    expect(total).to_contain_text("Part of €60.50")
    amount_field.fill("1.234,5")
    expect(pay_button(page)).to_have_accessible_name("Pay €1,234.50")
    amount_field.fill("twelve")
    expect(pay_button(page)).to_have_accessible_name("Continue to payment")
    expect(total).to_contain_text("To pay €60.50")
    expect(total).not_to_contain_text("Part of")
    page.screenshot(path=SHOTS / f"pay-part-{viewport['width']}.png", full_page=True)

    # Back to everything: the typed amount is not sent, so the server starts the whole amount.
    amount_field.fill("12,50")
    page.get_by_role("radio", name="Everything for the chosen invoices").check()
    expect(amount_field).to_be_hidden()
    expect(pay_button(page)).to_have_accessible_name("Pay €60.50")
    pay_button(page).click()
    page.wait_for_url(DEMO_CHECKOUT)
    assert "€60.50" in page.locator("main dl.facts").inner_text()


@pytest.mark.parametrize("viewport", [PHONE, DESKTOP], ids=["360px", "desktop"])
def test_switching_language_keeps_the_method_and_the_part_amount(
    new_context: NewContext, live_server: LiveServer, debtor: Debtor, viewport: dict[str, int]
) -> None:
    page = new_context(locale=BROWSER_LOCALES["en"], viewport=viewport).new_page()
    first, second = debtor.invoices
    start_payment(page, live_server, debtor)
    invoice_checkbox(page, second).uncheck()
    page.get_by_role("radio", name="Credit or debit card").check()
    page.get_by_role("radio", name="Part of it now").check()
    page.get_by_label("Amount in EUR").fill("12,50")
    expect(pay_button(page)).to_have_accessible_name("Pay €12.50")

    # In Dutch: the same invoice, method, "part of it" and the amount as typed; the button in Dutch notation.
    switch_language(page, "nl")
    amount_field = page.get_by_label("Bedrag in EUR")
    expect(invoice_checkbox(page, first)).to_be_checked()
    expect(invoice_checkbox(page, second)).not_to_be_checked()
    expect(page.get_by_role("radio", name="Creditcard of betaalpas")).to_be_checked()
    expect(page.get_by_role("radio", name="Nu een deel")).to_be_checked()
    expect(amount_field).to_be_visible()
    expect(amount_field).to_have_value("12,50")
    expect(pay_button(page)).to_have_accessible_name(re.compile(r"^Betaal €\s12,50$"))
    expect(pay_button(page)).to_be_in_viewport()
    if viewport is PHONE:
        assert_fits_width(page, PHONE["width"])
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"pay-after-language-switch-{viewport['width']}.png", full_page=True)
    run_axe(page, f"pay page after a language switch at {viewport['width']} px")

    # An amount typed the English way on the Dutch page comes back to the English page just as it was typed.
    amount_field.fill("20.5")
    expect(pay_button(page)).to_have_accessible_name(re.compile(r"^Betaal €\s20,50$"))
    switch_language(page, "en")
    expect(page.get_by_role("radio", name="Credit or debit card")).to_be_checked()
    expect(page.get_by_label("Amount in EUR")).to_have_value("20.5")
    expect(pay_button(page)).to_have_accessible_name("Pay €20.50")

    # And that is what is paid, by the method chosen before either switch.
    pay_button(page).click()
    page.wait_for_url(DEMO_CHECKOUT)
    facts = page.locator("main dl.facts").inner_text()
    assert "€20.50" in facts and "Credit or debit card" in facts, facts


def test_without_javascript_the_language_switch_keeps_the_choices_in_the_address(
    new_context: NewContext, live_server: LiveServer, debtor: Debtor
) -> None:
    """Without JavaScript the switch keeps the address, so choices that came in it (as pay.js sends them) stay."""
    page = new_context(locale=BROWSER_LOCALES["en"], viewport=PHONE, java_script_enabled=False).new_page()
    open_personal_link(page, live_server, debtor.ref)
    second = debtor.invoices[1]
    page.goto(f"/pay?invoice={second}&method=bancontact&amount_choice=partial&partial_amount=15%2C25")
    expect(page.get_by_label("Amount in EUR")).to_have_value("15,25")

    switch_language(page, "nl")
    expect(invoice_checkbox(page, debtor.invoices[0])).not_to_be_checked()
    expect(invoice_checkbox(page, second)).to_be_checked()
    expect(page.get_by_role("radio", name="Bancontact")).to_be_checked()
    expect(page.get_by_role("radio", name="Nu een deel")).to_be_checked()
    expect(page.get_by_label("Bedrag in EUR")).to_have_value("15,25")
    expect(pay_button(page)).to_have_accessible_name(re.compile(r"^Betaal €\s15,25$"))


def test_without_javascript_the_amount_field_stays_and_the_server_total_is_shown(
    new_context: NewContext, live_server: LiveServer, debtor: Debtor
) -> None:
    page = new_context(locale=BROWSER_LOCALES["en"], viewport=PHONE, java_script_enabled=False).new_page()
    start_payment(page, live_server, debtor)
    expect(page.get_by_label("Amount in EUR")).to_be_visible()
    expect(pay_button(page)).to_have_accessible_name(f"Pay {TOTAL_DUE}")

    # "Everything" with an amount typed in: the server asks which was meant and starts nothing.
    page.get_by_label("Amount in EUR").fill("10,00")
    pay_button(page).click()
    page.wait_for_load_state()
    assert path_of(page) == "/pay"
    expect(page.locator("#error-summary")).to_contain_text("You chose to pay everything.")


def test_after_a_part_payment_the_thank_you_says_what_is_still_open(
    page: Page, live_server: LiveServer, debtor: Debtor
) -> None:
    start_payment(page, live_server, debtor)
    page.get_by_role("radio", name="Part of it now").check()
    page.get_by_label("Amount in EUR").fill("20,00")
    expect(pay_button(page)).to_have_accessible_name("Pay €20.00")
    continue_to_checkout(page)
    choose_outcome(page, "Pay now")

    status = page.locator("#payment-status")
    expect(status.get_by_role("heading", level=1)).to_have_text(f"Thank you, {debtor.name}!")
    still_open = status.locator("section[aria-labelledby='still-open-heading']")
    first_due = date.today() + timedelta(days=10)  # noqa: DTZ011 - as new_debtor dates them
    expect(still_open).to_contain_text("€64.70 is still open on your invoices.")
    expect(still_open).to_contain_text(f"Pay the rest by {first_due.day} {first_due:%B %Y}.")
    expect(still_open).not_to_contain_text("contact us")
    more_time = still_open.get_by_role("link", name="I need more time: pay in instalments")
    expect(more_time).to_have_attribute("href", "/plan")
    expect(still_open.get_by_role("link", name="Pay the rest", exact=True)).to_have_attribute("href", "/pay")
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "thank-you-part-payment.png", full_page=True)
    run_axe_in_both_languages(page, "thank-you page after a part-payment")
