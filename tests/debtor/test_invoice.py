"""The invoice specification and its PDF."""

from __future__ import annotations

import io
import re
from datetime import date, timedelta

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from portal.audit.models import AuditEvent

ELECTRICITY = ("Stroom normaal tarief", "310.5", "kWh", "0.27350", "21")
STANDING = ("Vaste leveringskosten", "1", "maand", "7.50", "21")
MAINTENANCE = ("Onderhoudscontract", "1", "maand", "12.00", "9")


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_lines_vat_per_rate_totals_and_period(client, create_customer, create_invoice, login):
    customer = create_customer(language="nl")
    invoice = create_invoice(
        customer,
        lines=[ELECTRICITY, STANDING, MAINTENANCE],
        issue_date=date(2026, 11, 1),
        period_start=date(2026, 10, 1),
        period_end=date(2026, 10, 31),
    )
    login(client, customer)

    page = _text(client.get(f"/invoices/{invoice.number}").get_data(as_text=True))

    # 310.5 kWh x EUR 0.2735 = EUR 84.92 (84.921..., rounded half up)
    # Wide screens show the columns; phones fold them into one line under the description.
    assert "310,5 kWh € 0,2735 21% € 84,92" in page
    assert "Stroom normaal tarief 310,5 kWh × € 0,2735, btw 21%" in page
    assert "1 maand € 12,00 9% € 12,00" in page
    assert "Onderhoudscontract 1 maand × € 12,00, btw 9%" in page
    assert "Btw 9% over € 12,00 € 1,08" in page
    assert "Btw 21% over € 92,42 € 19,41" in page
    assert "Subtotaal zonder btw € 104,42" in page
    assert "Totaal € 124,91" in page
    assert "Periode 1 oktober 2026 tot en met 31 oktober 2026" in page


def test_comparison_with_the_usual_amount_for_the_same_kind_of_invoice(client, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    for months_ago, price in ((5, "100.00"), (4, "110.00"), (3, "120.00")):
        create_invoice(
            customer,
            lines=[("Energy", "1", "month", price, "0")],
            issue_date=date(2026, 11, 1) - timedelta(days=30 * months_ago),
        )
    # Too old, and of another kind: neither counts.
    create_invoice(customer, lines=[("Energy", "1", "month", "900.00", "0")], issue_date=date(2025, 11, 1))
    create_invoice(
        customer, lines=[("Meter", "1", "piece", "500.00", "0")], issue_date=date(2026, 10, 1), category="one-off"
    )
    current = create_invoice(customer, lines=[("Energy", "1", "month", "133.40", "0")], issue_date=date(2026, 11, 1))
    login(client, customer)

    page = _text(client.get(f"/invoices/{current.number}").get_data(as_text=True))

    assert "This is €23.40 more than your average of the last 6 months (€110.00)." in page


def test_no_comparison_sentence_without_earlier_invoices(client, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    invoice = create_invoice(customer)
    login(client, customer)
    page = _text(client.get(f"/invoices/{invoice.number}").get_data(as_text=True))
    assert "average" not in page


def test_pdf_in_the_customers_language(client, create_customer, create_invoice, login, session):
    customer = create_customer(language="nl")
    invoice = create_invoice(customer, lines=[ELECTRICITY, STANDING], issue_date=date(2026, 11, 1))
    login(client, customer)

    response = client.get(f"/invoices/{invoice.number}/pdf")

    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    assert f'filename="invoice-{invoice.number}.pdf"' in response.headers["Content-Disposition"]
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)
    assert f"Factuur {invoice.number}" in text
    assert "Stroom normaal tarief" in text
    assert "€ 111,83" in text  # 84.92 + 7.50 = 92.42, plus 21% VAT of 19.41
    downloads = session.scalars(select(AuditEvent).where(AuditEvent.action == "invoice.pdf_downloaded")).all()
    assert [event.subject_id for event in downloads] == [invoice.number]


def test_an_invoice_number_with_a_slash_opens_too(client, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    invoice = create_invoice(customer, number="2026/0042")
    login(client, customer)
    assert client.get("/invoices/2026/0042").status_code == 200
    assert client.get("/invoices/2026/0042/pdf").mimetype == "application/pdf"
    assert f'href="/invoices/{invoice.number}"' in client.get("/overview").get_data(as_text=True)


def _pdf_text(response) -> str:
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(response.data)).pages)


def _pdf_link(page: str) -> str:
    return re.search(r'href="([^"]+)" download>Download PDF<', page).group(1)


@pytest.mark.parametrize("numbers", [("X", "X/pdf"), ("pdf",), ("2026/001",), ("2026", "2026/pdf", "2026/001")])
def test_every_invoice_opens_and_downloads_its_own_pdf_whatever_its_number(
    client, create_customer, create_invoice, login, numbers
):
    customer = create_customer(language="en")
    for number in numbers:
        create_invoice(customer, number=number)
    login(client, customer)
    overview = client.get("/overview").get_data(as_text=True)

    for number in numbers:
        assert f'href="/invoices/{number}"' in overview
        response = client.get(f"/invoices/{number}")
        assert response.status_code == 200, f"invoice {number} opens"
        page = response.get_data(as_text=True)
        assert f"<h1>Invoice {number}</h1>" in page

        text = _pdf_text(client.get(_pdf_link(page)))
        assert f"Invoice {number}\n" in text + "\n", f"the PDF of invoice {number} is that invoice's own"
        for other in set(numbers) - {number}:
            assert f"Invoice {other}\n" not in text + "\n"


def test_a_pdf_link_of_the_old_form_keeps_working_when_no_invoice_has_that_number(
    client, create_customer, create_invoice, login, session
):
    customer = create_customer(language="en")
    create_invoice(customer, number="2026/001")
    create_invoice(customer, number="X")
    create_invoice(customer, number="X/pdf")
    login(client, customer)

    assert "Invoice 2026/001" in _pdf_text(client.get("/invoices/2026/001/pdf"))
    # "X/pdf" is an invoice of its own: its page wins over the old-style PDF link of invoice "X".
    assert "<h1>Invoice X/pdf</h1>" in client.get("/invoices/X/pdf").get_data(as_text=True)
    assert client.get("/invoices/nothing/pdf").status_code == 404
