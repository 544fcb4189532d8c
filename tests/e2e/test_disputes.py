"""Disputes in a real browser, as issue 13's "done when" puts it: a debtor on a 360 px phone disputes one line of
an invoice with a photo (its location data in it), sees the line on hold and the rest payable; the same in
Dutch; an agent on a desktop reads the debtor's words as text (a script in them does nothing, a link in them
is no link), answers with a ready answer and resolves with a credit note, which the debtor then downloads and
sees lowering the invoice; and a dispute nobody answered stands out red in the queue.

The debtors are made by these tests (imported through the CLI), so no other test's demo customer changes; the
unanswered dispute is the demo's (Esra Yilmaz, see portal/demo.py). Screenshots go to PORTAL_E2E_DISPUTE_SHOTS
(/tmp/shots_disputes by default).
"""

from __future__ import annotations

import io
import os
import re
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from axe_playwright_python.sync_playwright import Axe
from PIL import ExifTags, Image
from playwright.sync_api import BrowserContext, Dialog, Locator, Page, ViewportSize

from tests.e2e.test_payment_plans import run_python
from tests.e2e.test_staff_journey import (  # noqa: F401 - the staff log-in fixtures, shared with the staff tests
    AXE_OPTIONS,
    path_of,
    staff_accounts,
    staff_page,
)

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

NewContext = Callable[..., BrowserContext]
PHONE: ViewportSize = {"width": 360, "height": 740}
DESKTOP: ViewportSize = {"width": 1280, "height": 900}
SHOTS = Path(os.environ.get("PORTAL_E2E_DISPUTE_SHOTS", "/tmp/shots_disputes"))
# Three lines of 50, 10 and 20 euro before 21% VAT: 96.80 in all; the meter rental (12.10) is disputed.
LINES = (("Electricity", "50.00"), ("Meter rental", "10.00"), ("Standing charge", "20.00"))
DISPUTED_LINE = "Meter rental"
HOSTILE = "<script>alert(1)</script> https://evil.example"
CANNED_NAME = "Meter reading checked"
CANNED_TEXT = "We checked your meter reading: you are right, the meter rental should not be on this invoice."
CANNED_NAME_NL = "Meterstand nagekeken"
CANNED_TEXT_NL = "We hebben je meterstand nagekeken: je hebt gelijk."
SET_CANNED = """
import sys
from portal import create_app
from portal.audit.services import Actor
from portal.extensions import db
from portal.settings.services import set_settings
app = create_app()
with app.app_context():
    set_settings(db.session, {"disputes.canned_replies_en": sys.argv[1], "disputes.canned_replies_nl": sys.argv[2]},
                 actor=Actor(type="staff", id="e2e"), note="e2e: a ready answer for the dispute tests")
    db.session.commit()
    print("{}")
"""


def new_debtor(server: LiveServer, directory: Path, language: str) -> tuple[str, str]:
    """A consumer in ``language`` with one open invoice of three lines (96.80 euro), due in ten days."""
    ref = f"E2E-D{uuid.uuid4().hex[:7].upper()}"
    (directory / "customers.csv").write_text(
        "external_ref,name,email,language,kind,country\n"
        f"{ref},Robin Verbeek,robin.{ref.lower()}@example.nl,{language},consumer,NL\n"
    )
    today = date.today()  # noqa: DTZ011 - the portal dates invoices in local time
    number = f"{ref}-1"
    header = "customer_ref,invoice_number,issue_date,due_date,description,quantity,unit,unit_price,vat_rate"
    rows = [
        f"{ref},{number},{today - timedelta(days=4)},{today + timedelta(days=10)},{name},1,month,{price},21"
        for name, price in LINES
    ]
    (directory / "invoices.csv").write_text("\n".join([header, *rows]) + "\n")
    server.flask("import", "customers", str(directory / "customers.csv"))
    server.flask("import", "invoices", str(directory / "invoices.csv"))
    return ref, number


def photo_with_location(directory: Path) -> Path:
    """A JPEG as a phone writes it: the camera's make and where it was taken (GPS) in its EXIF data."""
    exif = Image.Exif()
    exif[ExifTags.Base.Make] = "PhoneCam"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps.update({1: "N", 2: (52.0, 22.0, 12.0), 3: "E", 4: (4.0, 53.0, 30.0)})
    path = directory / "meter.jpg"
    Image.new("RGB", (320, 240), (180, 120, 60)).save(path, "JPEG", exif=exif)
    with Image.open(path) as written:
        assert written.getexif().get_ifd(ExifTags.IFD.GPSInfo), "the test photo must carry a location"
    return path


def check_page(page: Page, name: str, *, axe: bool = True) -> None:
    """Nothing wider than the screen, no serious accessibility problem, and a screenshot to look at."""
    width = page.viewport_size["width"] if page.viewport_size else 0
    if axe:
        results = Axe().run(page, options=AXE_OPTIONS)
        serious = [v for v in results.response["violations"] if v.get("impact") in ("serious", "critical")]
        assert not serious, f"{name} ({page.url}):\n{results.generate_report()}"
    scroll_width = page.evaluate("() => document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{name} is {scroll_width} px wide on a {width} px screen"
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SHOTS / f"{name}-{width}.png", full_page=True)


def open_form_from_overview(page: Page, number: str, link_text: str) -> None:
    item = page.locator("main li.invoice-item").filter(has_text=number)
    item.get_by_role("link", name=link_text).click()
    page.wait_for_load_state()
    assert path_of(page) == "/dispute"
    assert page.locator(f"input[name='invoice'][value='{number}']").is_checked(), "the invoice comes chosen"


def dispute_one_line(page: Page, number: str, explanation: str, photo: Path) -> None:
    """In English, from the overview: one line of ``number``, the amount not right, a photo; sent."""
    open_form_from_overview(page, number, "Something wrong with this invoice?")
    page.get_by_text("Only some lines", exact=True).click()
    page.get_by_label(re.compile(DISPUTED_LINE)).check()
    page.get_by_label("The amount is not right").check()
    page.get_by_label("Tell us what is wrong").fill(explanation)
    page.locator("input#files").set_input_files(photo)
    check_page(page, "debtor-dispute-form-filled")
    page.get_by_role("button", name="Send my question").click()
    page.wait_for_url(re.compile(r"/dispute/\d+$"))


def text_of(locator: Locator) -> str:
    """What the reader sees, with the no-break spaces of Dutch amounts (€ 12,10) as plain spaces."""
    return locator.inner_text().replace("\xa0", " ")


def reference_on(page: Page) -> str:
    match = re.search(r"D-[0-9A-Z-]+", page.get_by_role("heading", level=1).inner_text())
    assert match, page.get_by_role("heading", level=1).inner_text()
    return match.group(0)


@pytest.fixture(scope="module")
def canned_reply(live_server: LiveServer) -> str:
    """One ready answer in each language, saved as staff would in the settings."""
    run_python(live_server, SET_CANNED, f"{CANNED_NAME}\n{CANNED_TEXT}", f"{CANNED_NAME_NL}\n{CANNED_TEXT_NL}")
    return CANNED_TEXT


def test_a_debtor_disputes_one_line_with_a_photo_and_can_pay_the_rest(
    live_server: LiveServer, new_context: NewContext, tmp_path: Path
) -> None:
    ref, number = new_debtor(live_server, tmp_path, "en")
    page = new_context(locale="en-GB", viewport=PHONE).new_page()
    page.goto(live_server.link_path(ref))
    check_page(page, "debtor-overview-before")
    dispute_one_line(
        page, number, "The meter rental is on it, but I returned that meter in May.", photo_with_location(tmp_path)
    )

    main = page.locator("main")
    text = main.inner_text()
    assert "Thank you. We have received your question" in text, text
    assert "Question received" in text
    assert re.search(r"will answer by \w+", text), text
    facts = main.locator("dl.facts").inner_text()
    assert "The amount is not right" in facts and "€12.10" in facts, facts
    assert f"Invoice {number}: {DISPUTED_LINE} (€12.10)" in text, text
    check_page(page, "debtor-dispute-received")

    # The photo is kept, but not where it was taken.
    with page.expect_download() as download:
        main.locator("ul.files a").first.click()
    kept = Image.open(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert kept.format == "JPEG" and not kept.getexif().get_ifd(ExifTags.IFD.GPSInfo), dict(kept.getexif())

    reference = reference_on(page)
    page.get_by_role("link", name="Back to the overview").click()
    item = main.locator("li.invoice-item").filter(has_text=number)
    assert f"On hold: your question {reference}" in item.inner_text(), item.inner_text()
    assert "€12.10 on hold, the rest can be paid" in item.inner_text()
    assert "Of this, €12.10 is on hold while we look into your question" in main.inner_text()
    check_page(page, "debtor-overview-on-hold")

    page.goto("/pay")
    assert page.locator("#pay-button").inner_text().strip() == "Pay €84.70"
    choice = main.locator(".choice").filter(has_text=f"Invoice {number}")
    assert f"Invoice {number}: €84.70" in choice.inner_text(), choice.inner_text()
    assert "€12.10 is on hold while we look into your question; you pay the rest." in choice.inner_text()
    check_page(page, "debtor-pay-rest")


def test_a_refused_form_opens_on_what_went_wrong(
    live_server: LiveServer, new_context: NewContext, tmp_path: Path
) -> None:
    # Sent without a reason or an explanation: the page comes back with the focus on its error summary, so a
    # screen reader says what is missing and a keyboard starts there; both answers are named at once.
    ref, number = new_debtor(live_server, tmp_path, "en")
    page = new_context(locale="en-GB", viewport=PHONE).new_page()
    page.goto(live_server.link_path(ref))
    open_form_from_overview(page, number, "Something wrong with this invoice?")
    page.get_by_role("button", name="Send my question").click()
    page.wait_for_load_state()
    summary = page.locator("#error-summary")
    assert page.evaluate("() => document.activeElement && document.activeElement.id") == "error-summary"
    assert "Choose what is wrong." in summary.inner_text() and "Tell us in a few words" in summary.inner_text()
    check_page(page, "debtor-dispute-form-refused")


def test_the_same_in_dutch(live_server: LiveServer, new_context: NewContext, tmp_path: Path) -> None:
    ref, number = new_debtor(live_server, tmp_path, "nl")
    page = new_context(locale="nl-NL", viewport=PHONE).new_page()
    page.goto(live_server.link_path(ref))
    open_form_from_overview(page, number, "Klopt er iets niet aan deze factuur?")
    main = page.locator("main")
    assert "Klopt er iets niet aan een factuur?" in page.get_by_role("heading", level=1).inner_text()
    page.get_by_text("Alleen sommige regels", exact=True).click()
    page.get_by_label(re.compile(DISPUTED_LINE)).check()
    page.get_by_label("Het bedrag klopt niet").check()
    page.get_by_label("Laat ons weten wat er mis is").fill("De huur van de meter klopt niet: die meter is weg.")
    check_page(page, "debtor-dispute-form-nl")
    page.get_by_role("button", name="Verstuur mijn vraag").click()
    page.wait_for_url(re.compile(r"/dispute/\d+$"))
    text = main.inner_text()
    assert "Vraag ontvangen" in text and "We hebben je vraag ontvangen en antwoorden uiterlijk" in text, text
    check_page(page, "debtor-dispute-received-nl")

    reference = reference_on(page)
    page.goto("/overview")
    item = main.locator("li.invoice-item").filter(has_text=number)
    assert f"Staat stil: je vraag {reference}" in item.inner_text(), item.inner_text()
    assert "Daarvan staat € 12,10 stil" in text_of(main), text_of(main)
    check_page(page, "debtor-overview-on-hold-nl")


def test_an_agent_answers_and_credits_and_the_debtor_downloads_the_credit_note(
    live_server: LiveServer,
    new_context: NewContext,
    staff_page: Callable[..., Page],  # noqa: F811 - fixture imported above
    canned_reply: str,
    tmp_path: Path,
) -> None:
    ref, number = new_debtor(live_server, tmp_path, "en")
    debtor = new_context(locale="en-GB", viewport=PHONE).new_page()
    debtor.goto(live_server.link_path(ref))
    dispute_one_line(debtor, number, HOSTILE, photo_with_location(tmp_path))
    reference = reference_on(debtor)
    dispute_path = path_of(debtor)

    agent = staff_page("agent", "en")
    agent.set_viewport_size(DESKTOP)
    dialogs: list[Dialog] = []

    def dismiss(dialog: Dialog) -> None:
        dialogs.append(dialog)
        dialog.dismiss()

    agent.on("dialog", dismiss)
    agent.goto("/staff/")
    agent.get_by_role("navigation").get_by_role("link", name="Disputes", exact=True).first.click()
    assert path_of(agent) == "/staff/disputes/"
    row = agent.locator("main table.dispute-queue tbody tr").filter(has_text=reference)
    assert row.count() == 1 and "€12.10" in row.inner_text() and ref in row.inner_text(), row.all_inner_texts()
    check_page(agent, "staff-dispute-queue")
    row.get_by_role("link", name=reference).click()

    conversation = agent.locator("main ol.conversation")
    assert conversation.locator(".turn-debtor .turn-text").first.inner_text() == HOSTILE
    assert agent.locator("a[href^='https://evil.example']").count() == 0, "a link from a stranger stays text"
    check_page(agent, "staff-dispute-detail")

    # Choosing a ready answer has a test of its own (below); here the agent types the answer.
    agent.locator("textarea#reply").fill(canned_reply)
    agent.get_by_role("button", name="Send the reply").click()
    agent.wait_for_load_state()
    assert canned_reply in conversation.locator(".turn-staff").last.inner_text(), conversation.inner_text()

    credit = agent.get_by_label(f"Credit on invoice {number}")
    assert credit.input_value() in ("12.10", "12,10"), "the credit comes filled with what is on hold"
    agent.locator("textarea#credit-reason").fill("The meter was returned in May.")
    agent.get_by_role("button", name="Issue the credit notes").click()
    agent.wait_for_load_state()
    outcome = agent.locator("main section#resolve")
    assert "Resolved with a credit note." in outcome.inner_text(), agent.locator("main").inner_text()
    assert "€12.10" in outcome.locator("table").inner_text()
    check_page(agent, "staff-dispute-resolved")
    assert dialogs == [], f"a dialog fired on the staff pages: {[d.message for d in dialogs]}"

    debtor.goto(dispute_path)
    status = debtor.locator("main section.card").first
    assert "Resolved: credit note" in status.inner_text(), status.inner_text()
    assert canned_reply in debtor.locator("main ol.conversation").inner_text()
    with debtor.expect_download() as download:
        status.get_by_role("link", name="Download the credit note (PDF)").click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    check_page(debtor, "debtor-dispute-resolved")

    desktop = new_context(locale="en-GB", viewport=DESKTOP).new_page()
    desktop.goto(live_server.link_path(ref))
    desktop.goto(dispute_path)
    check_page(desktop, "debtor-dispute-resolved")

    debtor.goto(f"/invoices/{number}")
    assert "Lowered by a credit note: €12.10. Still open: €84.70." in debtor.locator("main").inner_text()
    check_page(debtor, "debtor-invoice-credited")


def test_a_dispute_past_its_deadline_stands_out_red_in_the_queue(
    staff_page: Callable[..., Page],  # noqa: F811 - fixture imported above
) -> None:
    agent = staff_page("agent", "en")
    agent.set_viewport_size(DESKTOP)
    agent.goto("/staff/disputes/")
    row = agent.locator("main table.dispute-queue tbody tr").filter(has_text="Esra Yilmaz")
    assert row.count() == 1, agent.locator("main").inner_text()
    assert "late" in (row.get_attribute("class") or "").split()
    badge = row.locator(".badge-late")
    assert badge.inner_text() == "Past deadline"
    red, green, blue = map(int, re.findall(r"\d+", badge.evaluate("(el) => getComputedStyle(el).backgroundColor"))[:3])
    assert red > 140 and green < 60 and blue < 60, f"the badge is rgb({red}, {green}, {blue}), not red"
    check_page(agent, "staff-dispute-queue-late")


def test_choosing_a_ready_answer_fills_the_reply_box(
    staff_page: Callable[..., Page],  # noqa: F811 - fixture imported above
    canned_reply: str,
) -> None:
    """On the demo's unanswered dispute (Esra Yilmaz writes Dutch): her language's answer, nothing sent."""
    agent = staff_page("agent", "en")
    agent.set_viewport_size(DESKTOP)
    agent.goto("/staff/disputes/")
    agent.locator("main table.dispute-queue tbody tr").filter(has_text="Esra Yilmaz").get_by_role("link").click()
    # A click waits for the new page to begin, not for its deferred script: on a busy machine the choice
    # would come before canned.js listens. (Before it runs, "Use this answer" fills the box by reloading.)
    agent.wait_for_load_state("load")
    agent.get_by_label("Start from a ready answer (in the customer's language)").select_option(label=CANNED_NAME_NL)
    same_id = agent.evaluate("() => [...document.querySelectorAll('#reply')].map((el) => el.tagName.toLowerCase())")
    assert agent.locator("textarea#reply").input_value() == CANNED_TEXT_NL, (
        f"the reply box stayed empty; the elements with id 'reply', in order: {same_id}"
    )
    agent.locator("textarea#reply").fill("")
    agent.get_by_role("button", name="Use this answer").click()
    assert agent.locator("textarea#reply").input_value() == CANNED_TEXT_NL
