"""What a debtor notices in a real browser: the personal link, the overview, an invoice, the language,
a broken link, a small phone screen without JavaScript, accessibility (axe-core) and the CSP.

Demo customers used (see portal/demo.py), chosen so that whatever today's date is they have what the test
needs: C-1004 (Dutch) always has an open invoice that is not yet due (an unusually high one); C-1018
(English, a new customer) always has one open invoice; C-1019 (Dutch, in difficulty) always has several
overdue invoices; C-1020 (Dutch, a business billed quarterly) has invoices with 21% and 9% VAT.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, ConsoleMessage, Locator, Page, expect

from tests.e2e.conftest import SCREENSHOTS

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

NewContext = Callable[..., BrowserContext]

# Babel's formats: "€ 1.234,56" (with a no-break space) in Dutch, "€1,234.56" in English.
AMOUNT = {
    "nl": re.compile(r"€\s\d{1,3}(?:\.\d{3})*,\d{2}"),
    "en": re.compile(r"€\d{1,3}(?:,\d{3})*\.\d{2}"),
}
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "resultTypes": ["violations"],
}
PHONE_WIDTH = 320
# Structure, not wording or markup details: the open-invoices section, and links to a specification (not the PDF).
OPEN_INVOICES = "main section[aria-labelledby='open-heading']"
INVOICE_LINK = "a[href^='/invoices/']:not([href$='/pdf'])"
# The elements that stick out to the right of the viewport: named in the failure message, to help the fix.
OVERFLOWING_ELEMENTS = """(width) => {
  const over = (el) => el.getBoundingClientRect().right > width + 0.5;
  return Array.from(document.querySelectorAll('body *'))
    .filter((el) => over(el) && !over(el.parentElement))
    .slice(0, 5)
    .map((el) => `<${el.tagName.toLowerCase()} class="${el.className}"> is `
                 + `${Math.round(el.getBoundingClientRect().width)} px wide, its right edge at `
                 + `${Math.round(el.getBoundingClientRect().right)} px`);
}"""


# ---------------------------------------------------------------------------------------------- helpers


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def expect_image_loaded(image: Locator) -> None:
    """The image arrived and the browser could draw it (an error page or a refused type has no natural size)."""
    expect(image).to_have_js_property("complete", True)
    assert image.evaluate("(img) => img.naturalWidth") > 0, "the image did not load"


def html_lang(page: Page) -> str | None:
    return page.locator("html").get_attribute("lang")


def open_personal_link(page: Page, server: LiveServer, customer_ref: str) -> str:
    """Open the customer's personal link as the debtor would; return the link's path (with the token)."""
    link = server.link_path(customer_ref)
    token = link.removeprefix("/p/")
    page.goto(link)
    assert path_of(page) == "/overview", f"the personal link should land on the overview, not {page.url}"
    assert token not in page.url, "the token must leave the address bar"
    return link


def open_invoice_links(page: Page) -> Locator:
    return page.locator(f"{OPEN_INVOICES} {INVOICE_LINK}")


def any_invoice_link(page: Page) -> Locator:
    """The first invoice on the overview: an open one if there is one, else a paid one."""
    return page.locator(f"main {INVOICE_LINK}").first


def invoice_item(link: Locator) -> Locator:
    """The list item or table row that holds an invoice's link, its amount and its status."""
    return link.locator("xpath=ancestor::*[self::li or self::tr][1]")


def assert_amount(text: str, language: str) -> None:
    assert AMOUNT[language].fullmatch(text.strip()), f"{text!r} is not an amount written the {language} way"


def amount_in(locator: Locator, language: str) -> str:
    """The first amount in the element's text; it must be written the way ``language`` writes amounts."""
    text = locator.inner_text()
    found = AMOUNT[language].search(text)
    assert found, f"no amount written the {language} way in {text!r}"
    return found.group()


def grand_total(page: Page, language: str) -> str:
    return amount_in(page.locator(".totals .grand"), language)


def digits(text: str) -> str:
    return re.sub(r"\D", "", text)


def switch_language(page: Page, language: str) -> None:
    """Click the header link of the other language, as a visitor would."""
    before = path_of(page)
    page.get_by_role("link", name=LANGUAGE_NAMES[language], exact=True).click()
    page.wait_for_load_state()
    assert path_of(page) == before, "switching the language should keep the visitor on the same page"
    assert html_lang(page) == language


def run_axe(page: Page, what: str) -> None:
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{what} ({page.url}):\n{results.generate_report()}"


def tampered(link: str) -> str:
    """The same link with one character of the token changed, as a mistyped or truncated copy might be."""
    last = link[-1]
    return link[:-1] + ("A" if last != "A" else "B")


def assert_fits_width(page: Page, width: int = PHONE_WIDTH) -> None:
    # A click only waits for the navigation to start; measure once the stylesheet has been applied.
    page.wait_for_load_state("load")
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    if scroll_width > width:
        culprits = "\n  ".join(page.evaluate(OVERFLOWING_ELEMENTS, width))
        pytest.fail(
            f"{page.url} scrolls sideways at {width} px: the document is {scroll_width} px wide. "
            f"Sticking out:\n  {culprits}",
            pytrace=False,
        )


# ---------------------------------------------------------------------------------------------- the journey


def test_personal_link_overview_invoice_pdf_and_back(page: Page, live_server: LiveServer) -> None:
    open_personal_link(page, live_server, "C-1004")
    assert html_lang(page) == "nl", "a Dutch customer sees the portal in Dutch"

    # The total due comes first, then the open invoices, each with its amount.
    total = page.locator(".total-amount").first
    assert total.is_visible()
    assert_amount(total.inner_text(), "nl")
    assert open_invoice_links(page).count() >= 1, "the customer has an open invoice"
    invoice_link = open_invoice_links(page).first
    number = (invoice_link.get_attribute("href") or "").removeprefix("/invoices/")
    assert number in invoice_link.inner_text(), "the link names the invoice number"
    item_amount = amount_in(invoice_item(invoice_link), "nl")

    # The specification: lines, totals that match the overview, and a page title that says where you are.
    invoice_link.click()
    assert path_of(page) == f"/invoices/{number}"
    assert number in page.title()
    assert number in page.get_by_role("heading", level=1).inner_text()
    assert page.locator("table.lines tbody tr").count() >= 1, "the specification lists the invoice lines"
    assert grand_total(page, "nl") == item_amount, "the invoice total is the amount shown on the overview"

    # The PDF is a real PDF, named after the invoice.
    with page.expect_download() as download_info:
        page.get_by_role("link", name=re.compile("pdf", re.IGNORECASE)).click()
    download = download_info.value
    assert download.suggested_filename == f"invoice-{number}.pdf"
    with open(download.path(), "rb") as pdf:
        assert pdf.read(5) == b"%PDF-"
    assert path_of(page) == f"/invoices/{number}", "downloading keeps the visitor on the specification"

    # And back to the overview.
    page.locator(".back a").click()
    assert path_of(page) == "/overview"
    assert page.locator(".total-amount").first.inner_text() == total.inner_text()


def test_language_switch_changes_the_page_and_is_remembered(page: Page, live_server: LiveServer) -> None:
    open_personal_link(page, live_server, "C-1018")
    assert html_lang(page) == "en", "an English-speaking customer starts in English, whatever the browser says"
    assert page.locator(".language-switch [aria-current]").inner_text() == "English"
    english_total = page.locator(".total-amount").first.inner_text()
    assert_amount(english_total, "en")

    switch_language(page, "nl")
    dutch_total = page.locator(".total-amount").first.inner_text()
    assert_amount(dutch_total, "nl")
    assert digits(dutch_total) == digits(english_total), "the same amount, written the Dutch way"
    assert page.locator(".language-switch [aria-current]").inner_text() == "Nederlands"

    # The choice is remembered on the next page.
    open_invoice_links(page).first.click()
    assert path_of(page).startswith("/invoices/")
    assert html_lang(page) == "nl"
    dutch_grand_total = grand_total(page, "nl")

    switch_language(page, "en")
    assert digits(grand_total(page, "en")) == digits(dutch_grand_total)
    page.locator(".back a").click()
    assert path_of(page) == "/overview"
    assert html_lang(page) == "en"
    assert page.locator(".total-amount").first.inner_text() == english_total

    # Even a fresh visit in the same browser keeps it.
    page.goto("/overview")
    assert html_lang(page) == "en"


def test_tampered_link_shows_the_friendly_page_without_the_token(page: Page, live_server: LiveServer) -> None:
    link = tampered(live_server.link_path("C-1004"))
    response = page.goto(link)
    assert response is not None and response.ok

    assert path_of(page) == "/link", f"a broken link should lead to the invalid-link page, not {page.url}"
    assert "/p/" not in page.url and link.removeprefix("/p/") not in page.url
    assert html_lang(page) == "nl"
    assert page.get_by_role("heading", level=1).is_visible()
    email = page.locator("form input[type='email']")
    assert email.is_visible(), "the page offers to e-mail a new link"
    assert page.locator(f"label[for='{email.get_attribute('id')}']").is_visible(), "the e-mail field has a label"
    assert page.locator("form button[type='submit']").is_visible()
    assert page.locator(".total-amount").count() == 0, "nothing of the customer's account is shown"

    # The broken link did not sign anybody in.
    page.goto("/overview")
    assert path_of(page) == "/link"


# ---------------------------------------------------------------------------------------------- small screens, no JS


@pytest.mark.parametrize(
    "customer_ref",
    ["C-1004", "C-1019", "C-1008"],
    # C-1008 Noor El Amrani: her next debit is announced, and its badge ("Wordt geïncasseerd op <date>") wraps
    ids=["nothing-overdue", "several-overdue", "collected-by-direct-debit"],
)
def test_overview_fits_a_320px_phone_without_javascript(
    new_context: NewContext, live_server: LiveServer, customer_ref: str
) -> None:
    page = new_context(viewport={"width": PHONE_WIDTH, "height": 640}, java_script_enabled=False).new_page()
    open_personal_link(page, live_server, customer_ref)
    assert page.locator(".total-amount").first.is_visible()
    assert open_invoice_links(page).count() >= 1
    assert_fits_width(page)


def test_invoice_specification_fits_a_320px_phone(new_context: NewContext, live_server: LiveServer) -> None:
    page = new_context(viewport={"width": PHONE_WIDTH, "height": 640}, java_script_enabled=False).new_page()
    open_personal_link(page, live_server, "C-1004")
    open_invoice_links(page).first.click()
    assert path_of(page).startswith("/invoices/")
    assert_fits_width(page)


def test_everything_works_without_javascript(new_context: NewContext, live_server: LiveServer) -> None:
    page = new_context(viewport={"width": PHONE_WIDTH, "height": 640}, java_script_enabled=False).new_page()
    open_personal_link(page, live_server, "C-1004")
    assert page.evaluate("() => typeof window.htmx") == "undefined", "scripts really are off"

    open_invoice_links(page).first.click()
    assert path_of(page).startswith("/invoices/")
    switch_language(page, "en")
    grand_total(page, "en")
    page.locator(".back a").click()
    assert path_of(page) == "/overview"
    assert html_lang(page) == "en"

    # The fresh-link form posts and answers without scripts, too.
    page.goto(tampered(live_server.link_path("C-1004")))
    assert path_of(page) == "/link"
    page.locator("form input[type='email']").fill("nobody@example.org")
    page.locator("form button[type='submit']").click()
    assert path_of(page) == "/link/requested"


# ---------------------------------------------------------------------------------------------- paying by transfer

SHOTS = SCREENSHOTS
TRANSFER = "main section.transfer"


@pytest.mark.parametrize("language", ["en", "nl"])
def test_on_a_phone_the_transfer_details_are_copied_and_the_qr_code_waits(
    new_context: NewContext, live_server: LiveServer, language: str
) -> None:
    context = new_context(viewport={"width": 360, "height": 740}, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    qr_requests: list[str] = []
    page.on("request", lambda request: qr_requests.append(request.url) if "/qr/" in request.url else None)
    open_personal_link(page, live_server, "C-1019")
    page.goto(f"/language/{language}?next=/overview")
    transfer = page.locator(TRANSFER).first
    transfer.scroll_into_view_if_needed()

    # The QR code is not offered to the phone that would have to scan it: it waits behind a disclosure, and the
    # phone does not even fetch it.
    qr_code = transfer.locator("figure.qr")
    expect(qr_code).to_be_hidden()
    disclosure = transfer.locator("details.qr-disclosure > summary")
    expect(disclosure).to_be_visible()
    page.wait_for_load_state("load")
    assert qr_requests == [], "the QR code was fetched before anyone asked for it"

    # Copy buttons put exactly what the banking app needs on the clipboard, and say so (role="status").
    iban = transfer.locator(".iban")
    buttons = transfer.locator("button.copy-button")
    expect(buttons).to_have_count(3)
    iban_button = transfer.locator("dd:has(.iban) button.copy-button")
    iban_button.click()
    confirmation = transfer.locator("dd:has(.iban) [role='status']")
    expect(confirmation).to_be_visible()
    expect(confirmation).not_to_be_empty()
    assert page.evaluate("navigator.clipboard.readText()") == re.sub(r"\s", "", iban.inner_text())
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"overview-transfer-360-{language}.png", full_page=True)

    reference = transfer.locator(".reference")
    transfer.locator("dd:has(.reference) button.copy-button").click()
    assert page.evaluate("navigator.clipboard.readText()") == reference.inner_text().strip()
    expect(confirmation).to_be_empty()  # only the latest copy is confirmed

    # The IBAN wraps only between its groups of four, never inside one.
    groups = iban.locator(".nowrap")
    expect(groups.first).to_have_text(re.compile(r"^[A-Z]{2}\d{2}$"))
    for index in range(groups.count()):
        assert groups.nth(index).evaluate("(el) => el.getClientRects().length") == 1

    # Still there for whoever wants it: one tap shows the QR code.
    disclosure.click()
    expect(qr_code).to_be_visible()
    expect_image_loaded(qr_code.locator("img"))
    assert len(qr_requests) == 1
    assert_fits_width(page, 360)
    run_axe(page, f"overview with the transfer details at 360 px in {LANGUAGE_NAMES[language]}")


def test_on_a_wide_screen_the_qr_code_is_shown_for_the_phone(new_context: NewContext, live_server: LiveServer) -> None:
    page = new_context(viewport={"width": 1280, "height": 900}).new_page()
    open_personal_link(page, live_server, "C-1019")
    transfer = page.locator(TRANSFER).first
    expect(transfer.locator("figure.qr img")).to_be_visible()
    expect_image_loaded(transfer.locator("figure.qr img"))
    expect(transfer.locator("details.qr-disclosure > summary")).to_be_hidden()
    expect(page.locator("footer a[href^='tel:']")).to_have_count(1)
    expect(page.locator("footer a[href^='mailto:']")).to_have_count(1)
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "overview-desktop-nl.png", full_page=True)


def test_without_javascript_the_transfer_details_are_plain_text(
    new_context: NewContext, live_server: LiveServer
) -> None:
    page = new_context(viewport={"width": 360, "height": 740}, java_script_enabled=False).new_page()
    open_personal_link(page, live_server, "C-1019")
    transfer = page.locator(TRANSFER).first
    expect(transfer.locator("button.copy-button").first).to_be_hidden()
    expect(transfer.locator(".iban")).to_be_visible()
    expect(transfer.locator(".reference")).to_be_visible()
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / "overview-transfer-360-nojs.png", full_page=True)


# ---------------------------------------------------------------------------------------------- accessibility


def _overview(page: Page, server: LiveServer, language: str) -> None:
    open_personal_link(page, server, "C-1019")  # open, overdue and paid invoices, and the transfer block
    page.goto(f"/language/{language}?next=/overview")
    assert path_of(page) == "/overview"


def _invoice(page: Page, server: LiveServer, language: str) -> None:
    open_personal_link(page, server, "C-1020")  # a business invoice with 21% and 9% VAT
    any_invoice_link(page).click()
    path = path_of(page)
    page.goto(f"/language/{language}?next={path}")
    assert path_of(page) == path
    rates = set(re.findall(r"\d+(?:[.,]\d+)?\s?%", page.locator(".totals").inner_text()))
    assert len(rates) >= 2, f"this invoice should show more than one VAT rate, not {rates}"


def _overdue_invoice(page: Page, server: LiveServer, language: str) -> None:
    open_personal_link(page, server, "C-1019")  # its first open invoice is long past its due date
    open_invoice_links(page).first.click()
    path = path_of(page)
    page.goto(f"/language/{language}?next={path}")
    assert path_of(page) == path


def _invalid_link(page: Page, server: LiveServer, language: str) -> None:
    page.goto(f"/language/{language}?next=/")
    page.goto(tampered(server.link_path("C-1004")))
    assert path_of(page) == "/link"


def _invalid_link_form_errors(page: Page, server: LiveServer, language: str) -> None:
    _invalid_link(page, server, language)
    page.locator("form input[type='email']").fill("not an e-mail address")
    page.locator("form button[type='submit']").click()
    assert page.locator("#error-summary").is_visible(), "a wrong address shows the error summary"


def _link_requested(page: Page, server: LiveServer, language: str) -> None:
    _invalid_link(page, server, language)
    page.locator("form input[type='email']").fill("nobody@example.org")
    page.locator("form button[type='submit']").click()
    assert path_of(page) == "/link/requested"


def _not_found(page: Page, server: LiveServer, language: str) -> None:
    page.goto(f"/language/{language}?next=/")
    response = page.goto("/this-page-does-not-exist")
    assert response is not None and response.status == 404


def _front_door(page: Page, server: LiveServer, language: str) -> None:
    page.goto(f"/language/{language}?next=/")
    assert path_of(page) == "/"


DEBTOR_PAGES: dict[str, Callable[[Page, LiveServer, str], None]] = {
    "overview": _overview,
    "invoice": _invoice,
    "overdue-invoice": _overdue_invoice,
    "invalid-link": _invalid_link,
    "invalid-link-form-errors": _invalid_link_form_errors,
    "link-requested": _link_requested,
    "not-found": _not_found,
    "front-door": _front_door,
}


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("which", list(DEBTOR_PAGES))
def test_axe_finds_no_accessibility_problems(page: Page, live_server: LiveServer, which: str, language: str) -> None:
    DEBTOR_PAGES[which](page, live_server, language)
    assert html_lang(page) == language
    run_axe(page, f"{which} in {LANGUAGE_NAMES[language]}")


# ---------------------------------------------------------------------------------------------- CSP


def test_content_security_policy_causes_no_console_errors(page: Page, live_server: LiveServer) -> None:
    problems: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        # Chromium fetches /favicon.ico on its own, at a moment of its choosing; that request is not the CSP's
        # doing and would make this test flaky, so it has its own test below.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            problems.append(f"console error: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))

    link = live_server.link_path("C-1019")  # the fullest overview: overdue badges, QR code, paid invoices
    with page.expect_response(lambda response: urlsplit(response.url).path == "/overview") as overview_response:
        page.goto(link)
    policy = overview_response.value.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy, f"the overview should be served with the CSP, got {policy!r}"
    page.wait_for_load_state("networkidle")

    any_invoice_link(page).click()
    page.wait_for_load_state("networkidle")

    assert problems == [], "\n".join(problems)


def test_the_browser_finds_an_icon(page: Page, live_server: LiveServer) -> None:
    """Without a declared icon Chromium asks for /favicon.ico; a 404 there is a console error on every page."""
    page.goto("/")
    icons = page.locator("link[rel~='icon']")
    hrefs = [icons.nth(i).get_attribute("href") or "" for i in range(icons.count())] or ["/favicon.ico"]
    for href in hrefs:
        if href.startswith("data:"):
            continue
        response = page.request.get(href)
        assert response.ok, (
            f"the browser asks for the site icon {href} and gets HTTP {response.status}, "
            "which Chromium reports as a console error on every page"
        )
