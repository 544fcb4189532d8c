"""What a member of staff notices in a real browser: logging in with a second factor (by keyboard only),
finding a customer and their story, notes, creating and revoking a personal link, importing the example
files, the fresh-link e-mail under "Sent messages", accessibility (axe-core) on every staff page in both
languages, and a keyboard-only search.

The demo staff accounts (admin@, supervisor@, agent@ and viewer@zonnig.example) are shared by every test of
the session, as they are on one live server: each is enrolled once, through the real log-in and enrolment
pages, by the session-scoped ``staff_accounts`` fixture, which remembers its TOTP secret and a logged-in
browser state for the tests that follow.

Demo customers used (see portal/demo.py): C-1001 Sanne de Vries (Dutch) for notes and links; C-1002 James
Whitfield (English) and C-1003 Femke Jansen (Dutch) ask for a fresh link; C-1005 and C-1006 serve the
accessibility checks; the debtor tests keep C-1004 and C-1018 to C-1020 to themselves.
"""

from __future__ import annotations

import re
import sqlite3
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pyotp
import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, BrowserContext, Locator, Page

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

NewContext = Callable[..., BrowserContext]
StaffPage = Callable[..., Page]

PROJECT_ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = PROJECT_ROOT / "examples"
DEMO_PASSWORD = "demo-portal-2026"  # printed by `make run` for the demo accounts
LANGUAGE_NAMES = {"nl": "Nederlands", "en": "English"}
BROWSER_LOCALES = {"nl": "nl-NL", "en": "en-GB"}
LANGUAGE_COOKIE = "portal_lang"
# Who enrols in which language: the enrolment page is seen once per account, so one account per language.
ENROLMENT_LANGUAGE = {"admin": "nl", "supervisor": "en", "agent": "nl", "viewer": "en"}
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]},
    "resultTypes": ["violations"],
}
FRESH_LINK_SUBJECTS = {"nl": "Je nieuwe link naar je betaalpagina", "en": "Your new link to your payment page"}
RECOVERY_CODE = re.compile(r"[0-9a-f]{5}-[0-9a-f]{5}")
# What the focused element looks like, for the keyboard tests and their failure messages.
FOCUSED_ELEMENT = """() => {
  const el = document.activeElement;
  if (!el || el === document.body) return null;
  const style = getComputedStyle(el);
  return {
    tag: el.tagName.toLowerCase(),
    id: el.id,
    classes: el.className && typeof el.className === 'string' ? el.className : '',
    href: el.getAttribute('href'),
    text: (el.innerText || el.value || '').trim().slice(0, 40),
    outlineStyle: style.outlineStyle,
    outlineWidth: parseFloat(style.outlineWidth) || 0,
    boxShadow: style.boxShadow,
  };
}"""


# ---------------------------------------------------------------------------------------------- helpers


def path_of(page: Page) -> str:
    return urlsplit(page.url).path


def html_lang(page: Page) -> str | None:
    return page.locator("html").get_attribute("lang")


def run_axe(page: Page, what: str) -> None:
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{what} ({page.url}):\n{results.generate_report()}"


def focused(page: Page) -> dict[str, Any] | None:
    return page.evaluate(FOCUSED_ELEMENT)  # type: ignore[no-any-return]


def describe(element: dict[str, Any] | None) -> str:
    if element is None:
        return "nothing (the body)"
    parts = [f"<{element['tag']}"]
    if element["id"]:
        parts.append(f'id="{element["id"]}"')
    if element["classes"]:
        parts.append(f'class="{element["classes"]}"')
    if element["href"]:
        parts.append(f'href="{element["href"]}"')
    return " ".join(parts) + f"> {element['text']!r}"


def has_visible_outline(element: dict[str, Any] | None) -> bool:
    return element is not None and element["outlineStyle"] != "none" and element["outlineWidth"] > 0


def tab_to(page: Page, selector: str, *, max_presses: int = 40) -> list[dict[str, Any] | None]:
    """Press Tab until the element matching ``selector`` has the focus; return every element focused on the way."""
    target = page.locator(selector).first
    target.wait_for(state="attached")
    visited: list[dict[str, Any] | None] = []
    for _ in range(max_presses):
        if target.evaluate("(el) => el === document.activeElement"):
            return visited
        page.keyboard.press("Tab")
        visited.append(focused(page))
    trail = "\n  ".join(describe(element) for element in visited)
    pytest.fail(f"{max_presses} presses of Tab never reached {selector} on {page.url}. Focus went to:\n  {trail}")


def set_language(context: BrowserContext, server: LiveServer, language: str) -> None:
    """The language switch's cookie, as a click on the header's language link leaves it."""
    context.add_cookies([{"name": LANGUAGE_COOKIE, "value": language, "url": server.url}])


def switch_language(page: Page, language: str) -> None:
    """Click the header link of the other language, as a member of staff would."""
    before = path_of(page)
    page.locator(".language-switch").get_by_role("link", name=LANGUAGE_NAMES[language], exact=True).click()
    page.wait_for_load_state()
    assert path_of(page) == before, "switching the language should keep the visitor on the same page"
    assert html_lang(page) == language


def email_of(role: str) -> str:
    return f"{role}@zonnig.example"


_LAST_STEP: dict[str, int] = {}


def current_code(secret: str) -> str:
    """A code the portal has not seen yet: it accepts each 30-second code once (and one step of drift)."""
    totp = pyotp.TOTP(secret)
    step = max(totp.timecode(datetime.now(UTC)), _LAST_STEP.get(secret, -1) + 1)
    while step > totp.timecode(datetime.now(UTC)) + 1:
        time.sleep(1)
    _LAST_STEP[secret] = step
    return totp.generate_otp(step)


class DemoData:
    """Reads the live server's own SQLite database, for facts a test needs but a page does not show first."""

    def __init__(self, server: LiveServer) -> None:
        url = server.env["PORTAL_DATABASE_URL"]
        assert url.startswith("sqlite:///"), f"the e2e server should run on SQLite, not {url}"
        self.path = url.removeprefix("sqlite:///")

    def customer(self, ref: str) -> dict[str, Any]:
        with sqlite3.connect(self.path, timeout=10) as connection:
            connection.row_factory = sqlite3.Row
            row = connection.execute(
                "SELECT id, external_ref, name, email, language FROM customers WHERE external_ref = ?", (ref,)
            ).fetchone()
        assert row is not None, f"demo customer {ref} is missing"
        return dict(row)


# ---------------------------------------------------------------------------------------------- staff accounts


@dataclass
class Enrolment:
    """What happened when an account logged in for the first time and set up its second factor."""

    role: str
    language: str
    secret: str = ""
    first_focus: dict[str, Any] | None = None
    enrolment_path: str = ""
    enrolment_lang: str | None = None
    enrolment_axe_violations: int = -1
    enrolment_axe_report: str = ""
    qr_code_shown: bool = False
    recovery_codes: list[str] = field(default_factory=list)
    landing_path: str = ""
    landing_heading: str = ""
    storage_state: dict[str, Any] = field(default_factory=dict)


def log_in_by_keyboard(page: Page, email: str, password: str) -> dict[str, Any] | None:
    """From the top of the login page: Tab (the skip link comes first) to the e-mail field, type, Tab, type, Enter.

    Returns the element the first Tab focused.
    """
    page.keyboard.press("Tab")
    first = focused(page)
    tab_to(page, "input[name='email']", max_presses=15)
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    now = focused(page)
    assert now is not None and now["id"] == "password", f"Tab after the e-mail field went to {describe(now)}"
    page.keyboard.type(password)
    with page.expect_navigation():
        page.keyboard.press("Enter")
    return first


# Per live server: other e2e modules import the fixtures below, which gives each module its own instance of them;
# an account can be enrolled only once, so every instance shares what the first one enrolled (and saw fail).
_ENROLMENTS: dict[str, dict[str, Enrolment]] = {}
_FAILURES: dict[str, dict[str, str]] = {}


class StaffAccounts:
    """Enrols each demo account once per session, through the real pages, and remembers what it saw."""

    def __init__(self, browser: Browser, server: LiveServer) -> None:
        self.browser = browser
        self.server = server
        self._enrolments = _ENROLMENTS.setdefault(server.url, {})
        self._failures = _FAILURES.setdefault(server.url, {})

    def enrolment(self, role: str) -> Enrolment:
        if role in self._failures:
            pytest.fail(f"enrolling {email_of(role)} failed earlier in this session: {self._failures[role]}")
        if role not in self._enrolments:
            try:
                self._enrolments[role] = self._enrol(role, ENROLMENT_LANGUAGE[role])
            except BaseException as error:  # pytest.fail's exception, too: later tests say what went wrong
                self._failures[role] = str(error)
                raise
        return self._enrolments[role]

    def secret(self, role: str) -> str:
        return self.enrolment(role).secret

    def _enrol(self, role: str, language: str) -> Enrolment:
        seen = Enrolment(role=role, language=language)
        # A Dutch-speaking browser; the English account picks English with the header link on the login page.
        context = self.browser.new_context(base_url=self.server.url, locale=BROWSER_LOCALES["nl"])
        context.set_default_timeout(5_000)
        try:
            page = context.new_page()
            page.goto("/staff/")
            assert path_of(page) == "/staff/login", f"/staff/ should lead to the login page, not {page.url}"
            if language != "nl":
                switch_language(page, language)
            assert html_lang(page) == language

            seen.first_focus = log_in_by_keyboard(page, email_of(role), DEMO_PASSWORD)
            seen.enrolment_path = path_of(page)
            assert seen.enrolment_path == "/staff/account/two-factor", (
                f"the first log-in of {email_of(role)} should lead to the enrolment, not {page.url}:\n"
                f"{page.locator('main').inner_text()}"
            )
            seen.enrolment_lang = html_lang(page)
            results = Axe().run(page, options=AXE_OPTIONS)
            seen.enrolment_axe_violations = results.violations_count
            seen.enrolment_axe_report = results.generate_report() if results.violations_count else ""
            seen.qr_code_shown = page.locator("main figure.qr svg").count() == 1
            seen.secret = page.locator("#totp-secret").inner_text().strip()
            assert re.fullmatch(r"[A-Z2-7]{16,}", seen.secret), f"the key {seen.secret!r} is not a base32 TOTP key"

            page.locator("main form input[name='code']").fill(current_code(seen.secret))
            page.locator("main form button[type='submit']").click()
            page.wait_for_load_state()
            seen.recovery_codes = [text.strip() for text in page.locator("main .recovery-codes li").all_inner_texts()]
            assert seen.recovery_codes, f"no recovery codes after the code, but:\n{page.locator('main').inner_text()}"

            page.locator("main a.button").click()
            page.wait_for_load_state()
            seen.landing_path = path_of(page)
            seen.landing_heading = page.get_by_role("heading", level=1).inner_text()
            # The log-in stays usable for later tests; only the language choice is left to each of them.
            seen.storage_state = _log_in_state(context)
        finally:
            context.close()
        return seen

    def keep_log_in(self, role: str, context: BrowserContext) -> None:
        """Later tests go on with this log-in of ``role`` (after the shared one was logged out)."""
        self.enrolment(role).storage_state = _log_in_state(context)


def _log_in_state(context: BrowserContext) -> dict[str, Any]:
    state = context.storage_state()
    state["cookies"] = [cookie for cookie in state["cookies"] if cookie["name"] != LANGUAGE_COOKIE]
    return dict(state)


@pytest.fixture(scope="session")
def staff_accounts(browser: Browser, live_server: LiveServer) -> StaffAccounts:
    return StaffAccounts(browser, live_server)


@pytest.fixture(scope="session")
def demo_data(live_server: LiveServer) -> DemoData:
    return DemoData(live_server)


@pytest.fixture()
def staff_page(new_context: NewContext, staff_accounts: StaffAccounts, live_server: LiveServer) -> StaffPage:
    """A page logged in as the demo account of ``role`` (enrolled once per session), in ``language``."""

    def make(role: str, language: str = "en") -> Page:
        state = staff_accounts.enrolment(role).storage_state
        context = new_context(storage_state=state, locale=BROWSER_LOCALES[language])
        set_language(context, live_server, language)
        return context.new_page()

    return make


def log_in_with_password(page: Page, role: str) -> None:
    """The first step only: e-mail and password; the page then asks for the code."""
    page.goto("/staff/login")
    page.locator("main form input[name='email']").fill(email_of(role))
    page.locator("main form input[name='password']").fill(DEMO_PASSWORD)
    page.locator("main form button[type='submit']").click()
    page.wait_for_load_state()
    assert path_of(page) == "/staff/login/code", f"after the password the code step should follow, not {page.url}"


def open_customer(page: Page, demo_data: DemoData, ref: str) -> dict[str, Any]:
    customer = demo_data.customer(ref)
    page.goto(f"/staff/customers/{customer['id']}")
    assert ref in page.get_by_role("heading", level=1).inner_text()
    return customer


def request_fresh_link(new_context: NewContext, email: str) -> Page:
    """As a debtor with an English browser: the invalid-link page, a new link for ``email``, the confirmation."""
    page = new_context(locale=BROWSER_LOCALES["en"]).new_page()
    page.goto("/link")
    page.locator("main form input[type='email']").fill(email)
    page.locator("main form button[type='submit']").click()
    page.wait_for_load_state()
    assert path_of(page) == "/link/requested", f"asking for a new link should lead to the confirmation, not {page.url}"
    return page


def message_rows(page: Page, recipient: str) -> Locator:
    """The rows of "Sent messages" addressed to ``recipient``, newest first."""
    return page.locator("main table tbody tr").filter(has_text=recipient)


def wait_for_message_rows(page: Page, recipient: str) -> Locator:
    """The rows for ``recipient`` on the Sent messages page open in ``page``, reloading until there is one.

    A fresh link is issued just after the visitor's answer has gone out (so its timing tells nothing), so
    its e-mail can be listed a moment after the confirmation page.
    """
    deadline = time.monotonic() + 15
    while message_rows(page, recipient).count() == 0 and time.monotonic() < deadline:
        page.wait_for_timeout(250)
        page.reload()
    return message_rows(page, recipient)


# ---------------------------------------------------------------------------------------------- log-in


def test_first_log_in_by_keyboard_sets_up_the_second_factor(staff_accounts: StaffAccounts) -> None:
    # The admin's first log-in, by keyboard only from the top of the page, happens once per session (the
    # accounts are shared), in the staff_accounts fixture; here is what it saw.
    seen = staff_accounts.enrolment("admin")
    assert seen.first_focus is not None and "skip-link" in seen.first_focus["classes"], (
        f"the first Tab on the login page should reach the skip link, not {describe(seen.first_focus)}"
    )
    assert seen.enrolment_path == "/staff/account/two-factor"
    assert seen.enrolment_lang == "nl", "a Dutch-speaking browser sees the enrolment in Dutch"
    assert seen.qr_code_shown, "the enrolment shows a QR code for the authenticator app"
    assert len(seen.recovery_codes) == 10, f"ten recovery codes should be shown, not {seen.recovery_codes}"
    assert len(set(seen.recovery_codes)) == 10, "the recovery codes are all different"
    assert all(RECOVERY_CODE.fullmatch(code) for code in seen.recovery_codes), seen.recovery_codes
    assert seen.landing_path == "/staff/dashboard/", f"after the recovery codes: {seen.landing_path}"
    assert seen.landing_heading.strip(), "the dashboard has a heading"


def test_log_out_and_log_in_again_with_password_and_code(
    staff_page: StaffPage, staff_accounts: StaffAccounts, new_context: NewContext
) -> None:
    page = staff_page("admin", "en")
    page.goto("/staff/")
    assert path_of(page) == "/staff/dashboard/"
    assert page.get_by_role("heading", level=1).inner_text() == "Dashboard"
    copied = staff_accounts.enrolment("admin").storage_state

    # The visible one: on a narrow screen the same button is also behind "Menu" (staff/base.html).
    page.locator("header form[action$='/staff/logout'] button:visible").click()
    page.wait_for_load_state()
    assert path_of(page) == "/staff/login"
    assert page.locator("main .flash").filter(has_text="logged out").is_visible()
    page.goto("/staff/dashboard/")
    assert path_of(page) == "/staff/login", "after logging out the staff area asks for a log-in again"
    elsewhere = new_context(storage_state=copied, locale=BROWSER_LOCALES["en"]).new_page()
    elsewhere.goto("/staff/dashboard/")
    assert path_of(elsewhere) == "/staff/login", "a copy of the cookie from before the log-out opens nothing"

    # Again, by keyboard: the password first, then the code step (no enrolment this time).
    log_in_by_keyboard(page, email_of("admin"), DEMO_PASSWORD)
    assert path_of(page) == "/staff/login/code", f"after the password the code step should follow, not {page.url}"
    assert page.get_by_role("heading", level=1).inner_text() == "Second step"
    code = page.locator("main form input[name='code']")
    code.fill(current_code(staff_accounts.secret("admin")))
    code.press("Enter")
    page.wait_for_load_state()
    assert path_of(page) == "/staff/dashboard/", f"a good code should lead to the dashboard, not {page.url}"
    assert page.get_by_role("heading", level=1).inner_text() == "Dashboard"
    # The log-out ended the shared log-in on the server, so the tests after this one use the new one.
    staff_accounts.keep_log_in("admin", page.context)


def test_a_wrong_code_is_refused(new_context: NewContext, staff_accounts: StaffAccounts) -> None:
    staff_accounts.enrolment("viewer")
    page = new_context(locale=BROWSER_LOCALES["en"]).new_page()
    log_in_with_password(page, "viewer")
    right = current_code(staff_accounts.secret("viewer"))
    wrong = f"{(int(right) + 500_000) % 1_000_000:06d}"
    page.locator("main form input[name='code']").fill(wrong)
    page.locator("main form button[type='submit']").click()
    page.wait_for_load_state()
    assert path_of(page) == "/staff/login/code", "a wrong code does not let anybody in"
    assert page.locator("#error-summary").is_visible()
    assert page.locator("main form input[name='code']").get_attribute("aria-invalid") == "true"
    page.goto("/staff/dashboard/")
    assert path_of(page) == "/staff/login"


# ---------------------------------------------------------------------------------------------- customers


def test_search_finds_a_customer_by_part_of_the_name(staff_page: StaffPage) -> None:
    page = staff_page("viewer", "en")
    page.goto("/staff/")
    page.locator("nav.staff-nav").get_by_role("link", name="Customers", exact=True).click()
    assert path_of(page) == "/staff/customers/"

    page.get_by_label("Search customers").fill("Vries")
    page.locator("main form[role='search'] button[type='submit']").click()
    page.wait_for_load_state()
    results = page.locator("main table.search-results")
    assert results.is_visible(), f"searching for 'Vries' should show results:\n{page.locator('main').inner_text()}"
    assert "found" in results.locator("caption").inner_text()
    row = results.locator("tbody tr").filter(has_text="Sanne de Vries")
    assert row.count() == 1
    assert "C-1001" in row.inner_text()
    assert "sanne.de.vries@example.nl" in row.inner_text()

    row.get_by_role("link", name="Sanne de Vries").click()
    assert re.fullmatch(r"/staff/customers/\d+", path_of(page))
    assert "Sanne de Vries" in page.get_by_role("heading", level=1).inner_text()


def test_search_without_results_says_so(staff_page: StaffPage) -> None:
    page = staff_page("viewer", "en")
    page.goto("/staff/customers/?q=Zyxwvut")
    assert page.locator("main table.search-results").count() == 0
    assert page.locator("main .no-results").is_visible()
    assert "Zyxwvut" in page.locator("main .no-results h2").inner_text()


def test_customer_page_tells_the_story_and_takes_notes_and_links(
    staff_page: StaffPage, new_context: NewContext, demo_data: DemoData, live_server: LiveServer
) -> None:
    page = staff_page("agent", "en")
    customer = open_customer(page, demo_data, "C-1001")

    details = page.locator("main section[aria-labelledby='details-heading']")
    for fact in (customer["external_ref"], customer["name"], customer["email"], "Nederlands"):
        assert fact in details.inner_text(), f"the details should show {fact!r}"
    invoices = page.locator("main section[aria-labelledby='invoices'] table tbody tr")
    assert invoices.count() >= 1, "the customer's invoices are listed"
    timeline = page.locator("main table.timeline tbody tr")
    assert timeline.count() >= invoices.count(), "every invoice is part of the story"

    # A note goes to the top of the timeline, with its author.
    note = f"Called the customer, promised to pay on Friday ({uuid.uuid4().hex[:8]})"
    page.get_by_label("Note", exact=True).fill(note)
    page.locator("main form.note-form button[type='submit']").click()
    page.wait_for_load_state()
    assert page.locator("main .flash").filter(has_text="Note added").is_visible()
    newest = page.locator("main table.timeline tbody tr").first
    assert note in newest.inner_text(), f"the newest timeline entry should be the note, not {newest.inner_text()!r}"
    assert "Demo agent" in newest.inner_text(), "the note names its author"

    # A new link is shown once, as a full address on this server, in a read-only field.
    page.locator("main form[action$='/links'] button[type='submit']").click()
    page.wait_for_load_state()
    assert re.fullmatch(r"/staff/customers/\d+/links", path_of(page))
    assert customer["name"] in page.get_by_role("heading", level=1).inner_text()
    field_ = page.locator("#link-url")
    assert field_.get_attribute("readonly") is not None, "the link sits in a read-only field"
    assert page.locator("label[for='link-url']").is_visible()
    link = field_.input_value()
    assert re.fullmatch(rf"{re.escape(live_server.url)}/p/[A-Za-z0-9_\-]{{20,}}", link), f"not a link: {link!r}"
    assert page.locator("main button[data-copy-target='link-url']").is_visible(), "with JavaScript there is Copy"
    token = link.rsplit("/", 1)[-1]

    page.locator("main .back a").click()
    assert path_of(page) == f"/staff/customers/{customer['id']}"
    assert token not in page.content(), "the link is shown only once: not on the customer page"
    newest_link = page.locator("main section[aria-labelledby='links'] tbody tr").first
    assert email_of("agent") in newest_link.inner_text(), "the newest link is the one just created"

    # The debtor opens it in a browser of their own.
    debtor = new_context(locale=BROWSER_LOCALES["nl"]).new_page()
    debtor.goto(link)
    assert path_of(debtor) == "/overview", f"the new link should open the overview, not {debtor.url}"
    assert customer["name"] in debtor.get_by_role("heading", level=1).inner_text()

    # Staff see it was used, and revoke it.
    page.reload()
    newest_link = page.locator("main section[aria-labelledby='links'] tbody tr").first
    assert "Never" not in newest_link.inner_text(), "the link's last use is shown"
    newest_link.locator("form[action$='/revoke'] button").click()
    page.wait_for_load_state()
    # First a page that says which link of whom stops working; only its button revokes.
    assert customer["name"] in page.get_by_role("heading", level=1).inner_text()
    assert "can no longer open this link" in page.locator("main").inner_text()
    page.locator("main form[action$='/revoke'] button[type='submit']").click()
    page.wait_for_load_state()
    assert urlsplit(page.url).fragment == "messages"
    assert page.locator("main .flash").filter(has_text="revoked").is_visible()
    newest_link = page.locator("main section[aria-labelledby='links'] tbody tr").first
    assert "Revoked" in newest_link.inner_text()
    assert newest_link.locator("form[action$='/revoke']").count() == 0
    timeline_text = page.locator("main table.timeline tbody").inner_text()
    # Opening the link starts a visit: "Visited the portal", "Opened the personal link" (no "Link opened" row).
    for entry in ("Link created", "Visited the portal", "Opened the personal link", "Link revoked"):
        assert entry in timeline_text, f"the timeline should tell {entry!r}"

    # The debtor's session ends with it, and the link itself leads to the invalid-link page.
    debtor.goto("/overview")
    assert path_of(debtor) == "/link", f"a revoked link's session should end, but {debtor.url} was shown"
    debtor.goto(link)
    assert path_of(debtor) == "/link", f"a revoked link should lead to the invalid-link page, not {debtor.url}"
    assert token not in debtor.url


IN_VIEW = """(el) => { const box = el.getBoundingClientRect(); return box.top >= 0 && box.bottom <= innerHeight; }"""


def assert_result_where_the_eye_is(page: Page, said: str) -> None:
    """The page opened at its result message: it says ``said``, is announced, has the focus and is in view."""
    result = page.locator("#messages")
    assert said in result.inner_text()
    assert result.get_by_role("status").count() == 1, "announced as a status message"
    assert result.evaluate("(el) => el === document.activeElement"), "the focus moves to the result"
    assert result.evaluate(IN_VIEW), "the result is in view, not scrolled away"


@pytest.mark.parametrize("width", [360, 1280])
def test_a_refund_is_confirmed_first_and_its_result_is_shown_where_the_eye_is(
    staff_page: StaffPage, demo_data: DemoData, width: int
) -> None:
    # C-1007 paid an invoice in January 2026 (demo history): eleven months before the demo's "now".
    page = staff_page("supervisor", "en")
    page.set_viewport_size({"width": width, "height": 800})
    customer = open_customer(page, demo_data, "C-1007")
    cards = page.locator("main .payment-card").filter(has=page.locator("form[action$='/refund']"))
    assert cards.count() >= 1, "C-1007 has a refundable payment"
    card = cards.last  # newest first: the last is the oldest
    card.locator("input[name='amount']").fill("1,00")
    card.get_by_role("button", name="Refund").click()
    page.wait_for_load_state()

    # The confirmation: what, whose, from when, and what follows. Nothing is refunded yet.
    assert path_of(page).endswith("/refund")
    assert page.get_by_role("heading", level=1).inner_text() == f"Refund €1.00 to {customer['name']}?"
    assert "months old" in page.locator("#old-payment").inner_text(), "an old payment says how old it is"
    text = page.locator("main").inner_text()
    owed_again = "€1.00 is owed again on invoice"  # which invoice, by the refund's own rule
    for fact in ("goes back to the account the customer paid from", owed_again, "Paid on", customer["external_ref"]):
        assert fact in text, f"the confirmation should say {fact!r}"
    assert page.get_by_role("link", name="Cancel").is_visible()
    run_axe(page, f"refund confirmation at {width} px")

    page.get_by_role("button", name="Refund €1.00").click()
    page.wait_for_load_state()
    assert path_of(page) == f"/staff/customers/{customer['id']}" and urlsplit(page.url).fragment == "messages"
    assert_result_where_the_eye_is(page, "Refunded €1.00")


@pytest.mark.parametrize("width", [360, 1280])
def test_a_new_link_sent_by_email_says_so_where_the_eye_is(
    staff_page: StaffPage, demo_data: DemoData, width: int
) -> None:
    # C-1011 has no other part in these tests: one more link for them changes nothing another test looks at.
    page = staff_page("agent", "en")
    page.set_viewport_size({"width": width, "height": 800})
    customer = open_customer(page, demo_data, "C-1011")
    page.get_by_role("button", name="Send a new link by e-mail").click()
    page.wait_for_load_state()
    assert path_of(page) == f"/staff/customers/{customer['id']}" and urlsplit(page.url).fragment == "messages"
    assert_result_where_the_eye_is(page, f"A new link is on its way to {customer['email']}.")


def test_a_viewer_reads_but_cannot_change(staff_page: StaffPage, demo_data: DemoData) -> None:
    page = staff_page("viewer", "en")
    open_customer(page, demo_data, "C-1001")
    assert page.locator("main form.note-form").count() == 0, "a viewer cannot add notes"
    assert page.locator("main form[action$='/links']").count() == 0, "a viewer cannot create links"
    response = page.goto("/staff/audit/")
    assert response is not None and response.status == 403
    assert page.get_by_role("heading", level=1).inner_text() == "Not allowed"


# ---------------------------------------------------------------------------------------------- imports


def test_import_customers_from_the_example_file(staff_page: StaffPage) -> None:
    page = staff_page("supervisor", "en")
    page.goto("/staff/")
    page.locator("nav.staff-nav").get_by_role("link", name="Imports", exact=True).click()
    assert path_of(page) == "/staff/imports/"

    page.get_by_label("Customers", exact=True).check()
    page.locator("main input[type='file'][name='file']").set_input_files(EXAMPLES / "customers.csv")
    page.locator("main form.import-form button[type='submit']").click()
    page.wait_for_load_state()
    assert re.fullmatch(r"/staff/imports/\d+", path_of(page)), f"the upload should show a preview, not {page.url}"
    job_path = path_of(page)

    # The preview: what will change, nothing imported yet.
    assert page.locator("#error-summary").count() == 0, page.locator("main").inner_text()
    counts = page.locator("main .import-counts").inner_text()
    assert "6 new, 0 updated, 0 unchanged" in counts, f"the preview should count 6 new customers: {counts!r}"
    new_rows = page.locator("main table").filter(has=page.locator("caption", has_text="New")).locator("tbody tr")
    assert new_rows.count() == 6
    assert "C-2001" in new_rows.first.inner_text() and "Mark de Groot" in new_rows.first.inner_text()

    page.locator("main form.import-run button[type='submit']").click()
    page.wait_for_load_state()
    assert path_of(page) == job_path
    # The job runs in the background; the page polls (htmx) and shows the result when it has ended.
    done = page.locator("main .notice-ok")
    done.wait_for(state="visible", timeout=20_000)
    assert "Imported" in done.inner_text()
    assert "6 new" in page.locator("main .import-counts").inner_text()

    # The imported customers can be found.
    page.goto("/staff/customers/")
    page.get_by_label("Search customers").fill("Okafor")
    page.get_by_label("Search customers").press("Enter")
    page.wait_for_load_state()
    row = page.locator("main table.search-results tbody tr").filter(has_text="Grace Okafor")
    assert row.count() == 1, f"the imported customer C-2006 should be found:\n{page.locator('main').inner_text()}"
    assert "C-2006" in row.inner_text()
    row.get_by_role("link").first.click()
    assert "C-2006" in page.get_by_role("heading", level=1).inner_text()


# ---------------------------------------------------------------------------------------------- messages


@pytest.mark.parametrize("ref", ["C-1003", "C-1002"], ids=["dutch-customer", "english-customer"])
def test_fresh_link_email_appears_under_sent_messages_in_the_customers_language(
    ref: str, new_context: NewContext, staff_page: StaffPage, demo_data: DemoData
) -> None:
    customer = demo_data.customer(ref)
    email = customer["email"]

    # The debtor asks for a new link; the answer is the same as for an address nobody knows.
    debtor = request_fresh_link(new_context, email)
    assert html_lang(debtor) == "en"
    confirmation = debtor.locator("main").inner_text()
    assert debtor.get_by_role("heading", level=1).inner_text() == "Check your e-mail"
    assert email not in confirmation and customer["name"] not in confirmation
    stranger = request_fresh_link(new_context, f"nobody-{uuid.uuid4().hex[:6]}@example.org")
    assert stranger.locator("main").inner_text() == confirmation, "the confirmation reveals nothing"

    # Staff (in English) see the message, in the customer's language.
    page = staff_page("viewer", "en")
    page.goto("/staff/")
    page.locator("nav.staff-nav").get_by_role("link", name="Sent messages", exact=True).click()
    assert path_of(page) == "/staff/messages/"
    rows = wait_for_message_rows(page, email)
    assert rows.count() >= 1, f"no message to {email} under Sent messages:\n{page.locator('main').inner_text()}"
    subject = FRESH_LINK_SUBJECTS[customer["language"]]
    subject_link = rows.first.get_by_role("link")
    assert subject_link.inner_text().strip() == subject, "the subject is written in the customer's language"

    subject_link.click()
    assert re.fullmatch(r"/staff/messages/\d+", path_of(page))
    assert page.get_by_role("heading", level=1).inner_text() == subject
    assert email in page.locator("main dl.facts").inner_text()
    frame = page.frame_locator("main iframe.message-preview")
    body = frame.locator("body")
    body.wait_for()
    assert customer["name"] in body.inner_text(), "the rendered e-mail greets the customer by name"
    assert frame.locator("a[href*='/p/']").count() == 0, "a viewer may not see a personal link that still works"
    assert "hidden from staff" in body.inner_text(), "the link's place is marked instead"
    assert customer["name"] in page.locator("main pre.message-text").inner_text(), "and so does the plain text"


# ---------------------------------------------------------------------------------------------- accessibility


def _login(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    page.goto("/staff/login")


def _code_step(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    accounts.enrolment("viewer")
    log_in_with_password(page, "viewer")


def _login_errors(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    _login(page, server, accounts, data, nc)
    page.locator("main form button[type='submit']").click()  # nothing filled in
    page.wait_for_load_state()
    assert page.locator("#error-summary").is_visible(), "an empty form shows the error summary"


def _dashboard(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    page.goto("/staff/dashboard/")


def _plan_queue(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    page.goto("/staff/plans/")


def _plan_preview(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    first = (datetime.now(UTC) + timedelta(days=60)).date().isoformat()  # a plan starts within a year
    page.goto(f"/staff/plans/preview?total=1234,56&instalments=8&every=month&first={first}&kind=consumer")
    assert page.locator("main table.plan-schedule tbody tr").count() == 8


def _plan_preview_errors(
    page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext
) -> None:
    page.goto("/staff/plans/preview?total=abc&instalments=0&every=month&first=x&kind=consumer")
    assert page.locator("main .error-summary li").count() == 3


def _plan_lists(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    page.goto("/staff/plans/callbacks")


def _search(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    page.goto("/staff/customers/?q=Bakker")
    assert page.locator("main table.search-results tbody tr").count() >= 2


def _customer(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    open_customer(page, data, "C-1005")


def _link_created(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    open_customer(page, data, "C-1005")
    page.locator("main form[action$='/links'] button[type='submit']").click()
    page.wait_for_load_state()
    assert page.locator("#link-url").is_visible()


def _invoice(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    open_customer(page, data, "C-1005")
    page.locator("main section[aria-labelledby='invoices'] tbody th a").first.click()
    page.wait_for_load_state()
    assert re.fullmatch(r"/staff/customers/\d+/invoices/.+", path_of(page))
    assert page.locator("main table.lines tbody tr").count() >= 1


def _revoke_step(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    _link_created(page, server, accounts, data, nc)  # a link of its own to revoke
    page.locator("main .back a").click()
    page.locator("main section[aria-labelledby='links'] form[action$='/revoke'] button").first.click()
    page.wait_for_load_state()
    assert path_of(page).endswith("/revoke") and page.locator("main button.button-danger").is_visible()


def _imports(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    page.goto("/staff/imports/")


def _import_preview(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    page.goto("/staff/imports/")
    page.locator("main input[name='kind'][value='customers']").check()
    page.locator("main input[type='file'][name='file']").set_input_files(EXAMPLES / "customers.csv")
    page.locator("main form.import-form button[type='submit']").click()
    page.wait_for_load_state()
    assert re.fullmatch(r"/staff/imports/\d+", path_of(page))
    assert page.locator("main .import-counts").is_visible()


def _import_result(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    # A customer of its own, so that this import creates something whatever ran before.
    ref = f"E2E-{uuid.uuid4().hex[:8].upper()}"
    header = "external_ref,name,email,language,kind,country"
    csv = f"{header}\n{ref},Axe Tester,axe.{ref.lower()}@example.org,en,consumer,NL\n"
    page.goto("/staff/imports/")
    page.locator("main input[name='kind'][value='customers']").check()
    page.locator("main input[type='file'][name='file']").set_input_files(
        {"name": "one-customer.csv", "mimeType": "text/csv", "buffer": csv.encode()}
    )
    page.locator("main form.import-form button[type='submit']").click()
    page.wait_for_load_state()
    page.locator("main form.import-run button[type='submit']").click()
    page.wait_for_load_state()
    page.locator("main .notice-ok").wait_for(state="visible", timeout=20_000)


def _import_errors(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    page.goto("/staff/imports/")
    page.locator("main input[name='kind'][value='customers']").check()
    bad = "external_ref,name,email,language,kind,country\nC-9001,,no-address,xx,consumer,NL\n"
    page.locator("main input[type='file'][name='file']").set_input_files(
        {"name": "bad.csv", "mimeType": "text/csv", "buffer": bad.encode()}
    )
    page.locator("main form.import-form button[type='submit']").click()
    page.wait_for_load_state()
    assert page.locator("#error-summary").is_visible(), "a file with errors lists them"


def _audit(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    page.goto("/staff/audit/")
    assert page.locator("main table.audit-table tbody tr").count() >= 1


def _ensure_message(nc: NewContext, data: DemoData) -> str:
    email = data.customer("C-1006")["email"]
    request_fresh_link(nc, email)
    return str(email)


def _messages(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    email = _ensure_message(nc, data)
    page.goto("/staff/messages/")
    assert wait_for_message_rows(page, email).count() >= 1


def _message(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    _messages(page, server, accounts, data, nc)
    message_rows(page, data.customer("C-1006")["email"]).first.get_by_role("link").click()
    assert re.fullmatch(r"/staff/messages/\d+", path_of(page))
    page.frame_locator("main iframe.message-preview").locator("body").wait_for()


def _team(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    page.goto("/staff/team/")
    assert page.locator("main table.team-table tbody tr").count() >= 4


def _account(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    page.goto("/staff/account")


def _forbidden(page: Page, server: LiveServer, accounts: StaffAccounts, data: DemoData, nc: NewContext) -> None:
    response = page.goto("/staff/audit/")
    assert response is not None and response.status == 403


PageSetup = Callable[[Page, "LiveServer", StaffAccounts, DemoData, NewContext], None]
# page -> (the role that opens it, or None for a visitor who is not logged in; how to get there)
STAFF_PAGES: dict[str, tuple[str | None, PageSetup, str]] = {
    "login": (None, _login, "/staff/login"),
    "login-errors": (None, _login_errors, "/staff/login"),
    "code-step": (None, _code_step, "/staff/login/code"),
    "dashboard": ("viewer", _dashboard, "/staff/dashboard/"),
    "customer-search": ("viewer", _search, "/staff/customers/"),
    "customer": ("agent", _customer, ""),
    "link-created": ("agent", _link_created, ""),
    "revoke-confirmation": ("agent", _revoke_step, ""),
    "invoice": ("viewer", _invoice, ""),
    "imports": ("supervisor", _imports, "/staff/imports/"),
    "import-preview": ("supervisor", _import_preview, ""),
    "import-result": ("supervisor", _import_result, ""),
    "import-errors": ("supervisor", _import_errors, ""),
    "audit-trail": ("supervisor", _audit, "/staff/audit/"),
    "sent-messages": ("viewer", _messages, "/staff/messages/"),
    "message": ("agent", _message, ""),
    "team": ("admin", _team, "/staff/team/"),
    "account": ("agent", _account, "/staff/account"),
    "forbidden": ("viewer", _forbidden, "/staff/audit/"),
    "plan-queue": ("viewer", _plan_queue, "/staff/plans/"),
    "plan-preview": ("agent", _plan_preview, "/staff/plans/preview"),
    "plan-preview-errors": ("agent", _plan_preview_errors, "/staff/plans/preview"),
    "plan-callbacks": ("agent", _plan_lists, "/staff/plans/callbacks"),
}


@pytest.mark.parametrize("language", ["nl", "en"])
@pytest.mark.parametrize("which", list(STAFF_PAGES))
def test_axe_finds_no_accessibility_problems(
    which: str,
    language: str,
    new_context: NewContext,
    staff_page: StaffPage,
    staff_accounts: StaffAccounts,
    demo_data: DemoData,
    live_server: LiveServer,
) -> None:
    role, setup, expected_path = STAFF_PAGES[which]
    if role is None:
        context = new_context(locale=BROWSER_LOCALES[language])
        set_language(context, live_server, language)
        page = context.new_page()
    else:
        page = staff_page(role, language)
    setup(page, live_server, staff_accounts, demo_data, new_context)
    if expected_path:
        assert path_of(page) == expected_path, f"{which}: expected {expected_path}, got {page.url}"
    assert html_lang(page) == language
    run_axe(page, f"{which} in {LANGUAGE_NAMES[language]}")


@pytest.mark.parametrize("role", ["admin", "supervisor"], ids=["nl", "en"])
def test_axe_finds_no_accessibility_problems_on_the_enrolment(role: str, staff_accounts: StaffAccounts) -> None:
    # The enrolment is shown only before the second factor is on, so it was checked when the account enrolled.
    seen = staff_accounts.enrolment(role)
    assert seen.enrolment_lang == seen.language == ENROLMENT_LANGUAGE[role]
    assert seen.enrolment_axe_violations == 0, (
        f"enrolment in {LANGUAGE_NAMES[seen.language]} (/staff/account/two-factor):\n{seen.enrolment_axe_report}"
    )


def test_language_links_in_the_staff_header(staff_page: StaffPage, demo_data: DemoData) -> None:
    page = staff_page("viewer", "en")
    customer = open_customer(page, demo_data, "C-1001")
    assert page.locator("nav.staff-nav").get_by_role("link", name="Customers", exact=True).is_visible()

    switch_language(page, "nl")
    assert page.locator("nav.staff-nav").get_by_role("link", name="Klanten", exact=True).is_visible()
    assert customer["name"] in page.get_by_role("heading", level=1).inner_text()
    page.goto("/staff/dashboard/")
    assert html_lang(page) == "nl", "the choice is remembered"

    switch_language(page, "en")
    assert page.get_by_role("heading", level=1).inner_text() == "Dashboard"


# ---------------------------------------------------------------------------------------------- keyboard


def test_search_by_keyboard_with_a_visible_focus(staff_page: StaffPage) -> None:
    page = staff_page("viewer", "en")
    page.goto("/staff/customers/")

    # The search field has the focus as the page opens (autofocus); were it not so, Tab leads there.
    on_the_way = tab_to(page, "#q")
    field_ = focused(page)
    page.keyboard.type("Vries")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/staff/customers/\?q=Vries"))
    assert page.locator("main table.search-results").is_visible()

    first_result = "main table.search-results tbody a"
    on_the_way += tab_to(page, first_result)
    link = focused(page)
    assert link is not None and "Sanne de Vries" in link["text"]

    # Every element the keyboard passed shows where the focus is.
    without_outline = [describe(element) for element in [*on_the_way, field_, link] if not has_visible_outline(element)]
    assert not without_outline, "focused without a visible outline:\n  " + "\n  ".join(without_outline)

    with page.expect_navigation():
        page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"/staff/customers/\d+$"))
    assert "Sanne de Vries" in page.get_by_role("heading", level=1).inner_text()
