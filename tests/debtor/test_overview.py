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

    assert "Openstaand € 1.234,56" in page
    assert "Vervaldatum: 22 november 2026" in page


def test_bank_transfer_details_with_the_exact_reference_and_an_epc_qr_code(
    client, create_customer, create_invoice, login
):
    customer = create_customer(language="en")
    first = create_invoice(customer, issue_date=TODAY - timedelta(days=40))
    second = create_invoice(customer, issue_date=TODAY - timedelta(days=5))
    login(client, customer)

    html = client.get("/overview").get_data(as_text=True)

    assert "NL91 ABNA 0417 1643 00" in _text(html)
    assert "ABNANL2A" in html
    assert f"{first.number} {second.number}" in html
    qr_code = re.search(r'<img src="/qr/overview/EUR\?[^"]+"[^>]*alt="QR code for your banking app: pays €', html)
    assert qr_code is not None, "the EPC QR code is missing"


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


def test_the_transfer_details_can_be_copied_and_the_qr_code_is_for_a_second_screen(
    client, create_customer, create_invoice, login
):
    customer = create_customer(language="nl")
    first = create_invoice(customer, issue_date=TODAY - timedelta(days=40))
    second = create_invoice(customer, issue_date=TODAY - timedelta(days=5))
    login(client, customer)

    html = client.get("/overview").get_data(as_text=True)

    # What each button copies: what a banking app's fields take, without currency sign or spaces.
    copies = dict(
        re.findall(
            r'data-copy="([^"]*)"[^>]*>\s*<span aria-hidden="true">[^<]*</span>'
            r'<span class="visually-hidden">([^<]*)</span>',
            html,
        )
    )
    total = (first.total_cents + second.total_cents) / 100
    assert set(copies) == {"NL91ABNA0417164300", f"{total:.2f}".replace(".", ","), f"{first.number} {second.number}"}
    # Without JavaScript the buttons stay hidden: the values are there as text to select.
    assert len(re.findall(r'<button type="button" class="copy-button"[^>]*hidden>', html)) == 3
    # The IBAN can only wrap between its groups of four.
    groups = re.findall(r'<span class="nowrap">(\w+)</span>', html)
    assert groups[:5] == ["NL91", "ABNA", "0417", "1643", "00"]
    # The QR code waits behind a disclosure (opened on wide screens by the script).
    disclosure = re.search(r"<details class=\"qr-disclosure\"[^>]*>\s*<summary>([^<]+)</summary>\s*<figure", html)
    assert disclosure is not None, "the QR code should sit in a disclosure"


def test_the_footer_phone_and_e_mail_are_links(client, create_customer, login):
    login(client, create_customer(language="en"))
    html = client.get("/overview").get_data(as_text=True)
    footer = html[html.index("<footer") :]
    assert '<a href="tel:+31201234567" class="nowrap">+31 20 123 4567</a>' in footer
    assert '<a href="mailto:klantenservice@zonnig.example">klantenservice@zonnig.example</a>' in footer


def test_with_many_invoices_the_pay_action_is_also_below_the_list(client, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    for days in range(5):
        create_invoice(customer, issue_date=TODAY - timedelta(days=days))
    login(client, customer)
    html = client.get("/overview").get_data(as_text=True)
    after_the_list = html[html.index('class="invoice-list"') :].split("</ul>", 1)[1]
    assert 'href="/pay">Pay now</a>' in after_the_list.split("</section>", 1)[0]
