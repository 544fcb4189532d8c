"""The overview: the first thing a debtor sees after opening their link."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from portal.audit.models import AuditEvent

# "Overdue" flips at the customer's midnight, so the tests count days in their zone too.
TODAY = datetime.now(ZoneInfo("Europe/Amsterdam")).date()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_total_due_open_invoices_and_their_state(client, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    overdue = create_invoice(customer, issue_date=TODAY - timedelta(days=26), due_date=TODAY - timedelta(days=12))
    upcoming = create_invoice(customer, issue_date=TODAY - timedelta(days=2), due_date=TODAY + timedelta(days=12))
    login(client, customer)

    page = _text(client.get("/overview").get_data(as_text=True))

    assert f"You owe €{(overdue.total_cents + upcoming.total_cents) / 100:,.2f}" in page
    assert "2 open invoices, 1 of them is past its due date" in page
    assert f"Invoice {overdue.number}" in page and "Overdue by 12 days" in page
    assert f"Invoice {upcoming.number}" in page and "Open" in page


def test_amounts_and_dates_follow_the_dutch_locale(client, create_customer, create_invoice, login):
    customer = create_customer(language="nl")
    create_invoice(
        customer,
        lines=[("Jaarafrekening", "1", "stuk", "1020.30", "21")],
        issue_date=date(2026, 11, 8),
        due_date=date(2026, 11, 22),
    )
    login(client, customer)

    page = _text(client.get("/overview").get_data(as_text=True))

    assert "Je betaalt € 1.234,56" in page
    assert "Vervaldatum: 22 november 2026" in page


def test_bank_transfer_details_with_the_exact_reference_and_an_epc_qr_code(
    client, create_customer, create_invoice, login
):
    customer = create_customer(language="en")
    first = create_invoice(customer, issue_date=TODAY - timedelta(days=40))
    second = create_invoice(customer, issue_date=TODAY - timedelta(days=5))
    login(client, customer)

    html = client.get("/overview").get_data(as_text=True)

    assert "NL91 ABNA 0417 1643 00" in html
    assert "ABNANL2A" in html
    assert f"{first.number} {second.number}" in html
    svg = re.search(r"<svg role=\"img\"[^>]*>.*?</svg>", html, re.S)
    assert svg is not None, "the EPC QR code is missing"
    assert "QR code for a bank transfer of €" in svg.group(0)


def test_paid_invoices_of_the_last_year_are_listed_below(client, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    recent = create_invoice(
        customer, issue_date=TODAY - timedelta(days=60), state="paid", paid_at=datetime.now(UTC) - timedelta(days=40)
    )
    old = create_invoice(
        customer, issue_date=TODAY - timedelta(days=500), state="paid", paid_at=datetime.now(UTC) - timedelta(days=480)
    )
    login(client, customer)

    page = _text(client.get("/overview").get_data(as_text=True))

    assert "You have nothing to pay right now." in page
    assert "Paid in the last year" in page
    assert recent.number in page
    assert old.number not in page


def test_viewing_the_overview_is_recorded(client, create_customer, login, session):
    customer = create_customer()
    login(client, customer)
    client.get("/overview")
    actions = session.scalars(select(AuditEvent.action).where(AuditEvent.customer_id == customer.id)).all()
    assert "overview.viewed" in actions


def test_without_an_opened_link_the_overview_sends_you_to_the_link_page(client):
    response = client.get("/overview")
    assert response.status_code == 302
    assert response.headers["Location"] == "/link"
