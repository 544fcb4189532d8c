"""A payment plan in a real browser, as the issue's "done when" puts it: a Dutch debtor proposes 12 months, which
goes to staff; staff offer 6 months (through ``decisions.counter_plan``: the staff pages are another part of the
issue); the debtor accepts in the browser, and the invoices are paused because they are in a plan. On a 360 px
phone and on a desktop, with axe-core finding nothing on the pages on the way.

The customer is made by this test (imported through the CLI), so no other test's demo customer changes.
"""

from __future__ import annotations

import json
import subprocess
import sys
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import BrowserContext, Page

from tests.e2e.conftest import PROJECT_ROOT, SCREENSHOTS
from tests.e2e.test_staff_journey import AXE_OPTIONS

if TYPE_CHECKING:
    from tests.e2e.conftest import LiveServer

pytestmark = pytest.mark.e2e

NewContext = Callable[..., BrowserContext]
PHONE, DESKTOP = {"width": 360, "height": 780}, {"width": 1280, "height": 900}

# Run in the live server's environment: staff's counter-proposal, and what the account view says afterwards.
COUNTER = """
import json, sys
from datetime import date
from sqlalchemy import select
from portal import create_app
from portal.audit.services import Actor
from portal.extensions import db
from portal.plans.models import PaymentPlan
from portal.plans.decisions import counter_plan
from portal.customers.models import Customer
app = create_app()
with app.app_context():
    customer = db.session.scalar(select(Customer).where(Customer.external_ref == sys.argv[1]))
    plan = db.session.scalar(select(PaymentPlan).where(PaymentPlan.customer_id == customer.id))
    counter_plan(db.session, plan, instalments=6, every="month", first=date.fromisoformat(sys.argv[2]),
                 actor=Actor(type="staff", id="e2e"), staff_email="supervisor@zonnig.example", supervisor=True,
                 note="Zes maanden is het langste dat we kunnen afspreken.")
    db.session.commit()
    print(json.dumps({"plan": plan.id, "status": plan.status}))
"""
PAUSED = """
import json, sys
from sqlalchemy import select
from portal import clock, create_app
from portal.accounts.pausing import pause_reason
from portal.customers.models import Customer
from portal.extensions import db
from portal.invoices.models import Invoice
app = create_app()
with app.app_context():
    customer = db.session.scalar(select(Customer).where(Customer.external_ref == sys.argv[1]))
    invoices = db.session.scalars(select(Invoice).where(Invoice.customer_id == customer.id))
    print(json.dumps({invoice.number: pause_reason(db.session, invoice, clock.now()) for invoice in invoices}))
"""


def run_python(server: LiveServer, script: str, *args: str) -> dict[str, object]:
    result = subprocess.run(  # noqa: S603 - our own interpreter and script
        [sys.executable, "-c", script, *args],
        cwd=PROJECT_ROOT,
        env=server.env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, f"{result.stdout}\n{result.stderr}"
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def new_dutch_debtor(server: LiveServer, directory: Path) -> tuple[str, list[str]]:
    """A Dutch consumer with three invoices past their due date, about 300 euro together."""
    ref = f"E2E-{uuid.uuid4().hex[:8].upper()}"
    customers = directory / "customers.csv"
    customers.write_text(
        "external_ref,name,email,language,kind,country\n"
        f"{ref},Jasper Hoekstra,jasper.{ref.lower()}@example.nl,nl,consumer,NL\n"
    )
    today = date.today()  # noqa: DTZ011 - the portal dates invoices in local time
    numbers = [f"{ref}-{n}" for n in (1, 2, 3)]
    header = "customer_ref,invoice_number,issue_date,due_date,description,quantity,unit,unit_price,vat_rate"
    rows = [
        f"{ref},{number},{today - timedelta(days=90 - 30 * i)},{today - timedelta(days=76 - 30 * i)},"
        f"Stroom en gas,1,maand,{price},21"
        for i, (number, price) in enumerate(zip(numbers, ("82.64", "90.91", "74.38"), strict=True))
    ]
    invoices = directory / "invoices.csv"
    invoices.write_text("\n".join([header, *rows]) + "\n")
    server.flask("import", "customers", str(customers))
    server.flask("import", "invoices", str(invoices))
    return ref, numbers


def check_page(page: Page, name: str, width: int) -> None:
    results = Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, f"{name} ({page.url}):\n{results.generate_report()}"
    overflow = page.evaluate("() => document.documentElement.scrollWidth")
    assert overflow <= width, f"{name} is {overflow} px wide on a {width} px screen"
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=SCREENSHOTS / f"payment-plan-{name}-{width}.png", full_page=True)


def test_a_twelve_month_proposal_countered_with_six_months_and_accepted(
    live_server: LiveServer, new_context: NewContext, tmp_path: Path
) -> None:
    ref, numbers = new_dutch_debtor(live_server, tmp_path)
    page = new_context(locale="nl-NL", viewport=PHONE).new_page()
    page.goto(live_server.link_path(ref))
    page.goto("/plan")
    main = page.locator("main")
    assert "Wat we meteen kunnen afspreken" in main.inner_text()
    assert all(page.locator(f"input[name='invoice'][value='{number}']").is_checked() for number in numbers)
    check_page(page, "start", PHONE["width"])

    page.locator("select#instalments").select_option("12")
    page.get_by_text("Vertel ons meer (niet verplicht)").click()
    page.locator("textarea#reason").fill("Ik heb sinds oktober minder werk.")
    page.get_by_role("button", name="Toon mijn schema").click()
    assert "meer dan 6 termijnen" in main.inner_text(), main.inner_text()
    assert page.locator("#schedule table tbody tr").count() == 12
    check_page(page, "preview-outside-policy", PHONE["width"])

    page.get_by_label("Ik ga akkoord met deze betalingsregeling").check()
    page.get_by_role("button", name="Akkoord en voorstel versturen").click()
    page.wait_for_url("**/plan/*")
    assert "Je voorstel ligt bij ons team" in main.inner_text()
    check_page(page, "pending", PHONE["width"])

    first = date.today() + timedelta(days=10)  # noqa: DTZ011
    countered = run_python(live_server, COUNTER, ref, first.isoformat())
    assert countered["status"] == "countered"

    desktop = new_context(locale="nl-NL", viewport=DESKTOP).new_page()
    desktop.goto(live_server.link_path(ref))
    desktop.goto(f"/plan/{countered['plan']}")
    assert "We bieden je een andere regeling aan" in desktop.locator("main").inner_text()
    check_page(desktop, "counter-proposal", DESKTOP["width"])
    page.reload()
    check_page(page, "counter-proposal", PHONE["width"])
    page.get_by_role("button", name="Deze regeling accepteren").click()
    assert "Vink het vakje aan" in main.inner_text(), "the box must be ticked"
    page.get_by_label("Ik ga akkoord met deze betalingsregeling").check()
    page.get_by_role("button", name="Deze regeling accepteren").click()
    page.wait_for_load_state()
    assert "Je betalingsregeling loopt" in main.inner_text(), main.inner_text()
    assert page.locator("main table tbody tr").count() == 6
    check_page(page, "active", PHONE["width"])
    desktop.reload()
    check_page(desktop, "active", DESKTOP["width"])
    assert urlsplit(page.url).path == f"/plan/{countered['plan']}"

    paused = run_python(live_server, PAUSED, ref)
    assert paused == dict.fromkeys(numbers, "plan"), paused
