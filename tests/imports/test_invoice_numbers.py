"""An invoice number is part of its page's address, so the import refuses one whose link would open another
invoice, be redirected, or could not be opened at all; numbers as billing systems write them import and open."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from portal.invoices.models import Invoice
from tests.imports.test_pages import upload

HEADER = "customer_ref,invoice_number,issue_date,due_date,description,quantity,unit,unit_price,vat_rate\n"
DOTS = (
    "cannot be an invoice number: a part between slashes is “.” or “..”, which a browser reads as a folder, "
    "so the link would open another page. Change or remove that part."
)
SLASHES = (
    "cannot be an invoice number: it starts or ends with a slash (/) or has two slashes in a row. An invoice "
    "number is part of the address of its page; single slashes inside it, as in INV/2026/0042, are fine."
)
UNSEEN = (
    "This invoice number has a line break, a tab, two spaces in a row or another character you cannot see. "
    "An invoice number is part of the address of its page: use letters, digits and punctuation, with at most "
    "one space between them."
)


def _file(tmp_path: Path, *numbers: str) -> str:
    rows = "".join(f'K-1,"{number}",2026-10-01,2026-10-15,Stroom,1,kWh,"10,00",21\n' for number in numbers)
    path = tmp_path / "invoices.csv"
    path.write_text(HEADER + rows, encoding="utf-8")
    return str(path)


@pytest.fixture()
def customer(create_customer):
    return create_customer(external_ref="K-1", language="en", name="Karin Kok")


@pytest.mark.parametrize(
    ("number", "message"),
    [
        ("ODD-7/../ODD-1", f"“ODD-7/../ODD-1” {DOTS}"),  # the browser would open ODD-1
        ("ODD-15/./x", f"“ODD-15/./x” {DOTS}"),
        ("..", f"“..” {DOTS}"),
        ("ODD-2/..", f"“ODD-2/..” {DOTS}"),
        ("/ODD-3", f"“/ODD-3” {SLASHES}"),  # the server would redirect to /invoices/ODD-3
        ("ODD-3/", f"“ODD-3/” {SLASHES}"),
        ("ODD//3", f"“ODD//3” {SLASHES}"),
        ("ODD\r\n4", UNSEEN),
        ("ODD\n4", UNSEEN),
        ("ODD\t5", UNSEEN),
        ("F  2026-12", UNSEEN),
        ("F\u00a02026-12", UNSEEN),  # a non-breaking space, as a word processor puts in
        ("ODD\u200b6", UNSEEN),  # a zero-width space
        ("ODD\x077", UNSEEN),
    ],
)
def test_an_invoice_number_whose_link_would_not_open_it_is_a_row_error(
    cli, customer, session, tmp_path, number, message
):
    result = cli("invoices", _file(tmp_path, "GOOD-1", number))

    assert result.exit_code == 1, result.output
    assert f"Error: row 3, column invoice_number: {message}" in result.output
    assert "1 error(s): nothing was imported." in result.output
    assert session.scalar(select(func.count()).select_from(Invoice)) == 0


def test_a_number_longer_than_the_column_is_refused(cli, customer, session, tmp_path):
    result = cli("invoices", _file(tmp_path, "F" * 41))
    assert "Error: row 2, column invoice_number: This is too long: at most 40 characters." in result.output
    assert session.scalar(select(func.count()).select_from(Invoice)) == 0


def test_numbers_as_billing_systems_write_them_import_and_open_with_their_pdf(
    app, cli, customer, session, tmp_path, login
):
    numbers = ["2026-000297", "INV/2026/0042", "F 2026-12", "ODD.1/v2.0/..x"]
    result = cli("invoices", _file(tmp_path, *numbers))
    assert result.exit_code == 0, result.output
    assert "Imported invoices: 4 new" in result.output

    debtor = app.test_client()
    login(debtor, customer)
    overview = debtor.get("/overview").get_data(as_text=True)
    for number in numbers:
        link = re.search(rf'href="([^"]+)">\s*<span class="invoice-number">Invoice {re.escape(number)}<', overview)
        assert link, f"the overview links invoice {number}"
        page = debtor.get(link.group(1))
        assert page.status_code == 200, f"invoice {number} opens from its link"
        html = page.get_data(as_text=True)
        assert f"<h1>Invoice {number}</h1>" in html
        pdf = debtor.get(re.search(r'href="([^"]+)" download>Download PDF<', html).group(1))
        assert pdf.status_code == 200 and pdf.mimetype == "application/pdf", f"and its PDF downloads ({number})"


def test_a_dutch_supervisor_reads_why_in_dutch_on_the_upload_preview(client, staff_login, customer, session):
    staff_login(client, "supervisor", language="nl")
    content = (HEADER + "K-1,ODD-7/../ODD-1,2026-10-01,2026-10-15,Stroom,1,kWh,10,21\n").encode()

    preview = client.get(upload(client, "invoices", content).headers["Location"]).get_data(as_text=True)

    assert "“ODD-7/../ODD-1” kan geen factuurnummer zijn: een deel tussen schuine strepen is “.” of “..”." in preview
    assert "Verander dat deel of haal het weg." in preview
