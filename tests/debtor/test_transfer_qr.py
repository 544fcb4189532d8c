"""The EPC QR code of a bank transfer: an image of its own, for the debtor whose session asks for it."""

from __future__ import annotations

import html as html_lib
import re
from datetime import date, timedelta
from decimal import Decimal

import segno
from flask.testing import FlaskClient

from portal.settings.services import creditor_details

ISSUED = date(2026, 10, 1)
# An <img> of the QR code in the transfer block's disclosure (closed until opened; transfer.js opens it when wide).
QR_IMAGE = re.compile(
    r'<details class="qr-disclosure"[^>]*>\s*<summary>[^<]+</summary>\s*<figure class="qr">\s*(<img [^>]*>)', re.S
)


def _qr_image(page: str) -> dict[str, str]:
    found = QR_IMAGE.search(page)
    assert found is not None, "the QR code should be an image in the transfer block's disclosure"
    return {name: html_lib.unescape(value) for name, value in re.findall(r'([\w-]+)="([^"]*)"', found.group(1))}


def _dark_modules(svg: bytes, border: int = 4) -> set[tuple[int, int]]:
    """The dark modules (row, column) of a QR code as segno draws it: one path of 1-module-high lines."""
    path = re.search(rb'<path class="qrline"[^>]* d="([^"]+)"', svg)
    assert path is not None, svg[:300]
    dark: set[tuple[int, int]] = set()
    x = y = 0.0
    for command, numbers in re.findall(r"([MmHhVv])([-\d. ]+)", path.group(1).decode()):
        values = [float(value) for value in numbers.split()]
        if command == "M":
            x, y = values
        elif command == "m":
            x, y = x + values[0], y + values[1]
        elif command == "h":
            dark.update((int(y) - border, int(x) + step - border) for step in range(int(values[0])))
            x += values[0]
        else:  # segno draws rows only; anything else means this parser no longer reads its output
            raise AssertionError(f"unexpected path command {command}")
    return dark


def _epc_payload(name: str, iban: str, bic: str, cents: int, reference: str) -> bytes:
    """EPC069-12, version 002, written out by hand: what a banking app reads from the code."""
    amount = f"EUR{Decimal(cents).scaleb(-2):.2f}".rstrip("0").rstrip(".")
    lines = ["BCD", "002", "2", "SCT", bic, name, iban, amount, "", "", reference]  # 2: ISO 8859-1
    return "\n".join(lines).encode("iso-8859-1")


def _assert_pays(svg: bytes, session, cents: int, reference: str) -> None:
    creditor = creditor_details(session)
    payload = _epc_payload(creditor["name"], creditor["iban"], creditor["bic"], cents, reference)
    expected = segno.make_qr(payload, error="m", boost_error=False)
    want = {(row, col) for row, line in enumerate(expected.matrix) for col, bit in enumerate(line) if bit}
    assert _dark_modules(svg) == want, "the QR code does not encode the EPC payload of this transfer"


def _get_image(client: FlaskClient, src: str):
    response = client.get(src)
    assert response.status_code == 200, response.status
    return response


def test_the_overview_shows_the_qr_code_as_a_lazy_image_not_inline(client, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    first = create_invoice(customer, issue_date=ISSUED)
    second = create_invoice(customer, issue_date=ISSUED + timedelta(days=30))
    login(client, customer)

    page = client.get("/overview").get_data(as_text=True)

    assert "<svg" not in page, "the page should not draw the QR code itself"
    image = _qr_image(page)
    assert image["src"].startswith("/qr/overview/EUR?")
    assert image["loading"] == "lazy" and image["width"] == image["height"] == "220"
    total = f"€{(first.total_cents + second.total_cents) / 100:,.2f}"
    assert image["alt"] == (
        f"QR code for your banking app: pays {total} to Zonnig Energie B.V. "
        f"with reference {first.number} {second.number}"
    )


def test_the_overview_qr_code_encodes_the_open_total_and_is_kept_privately(
    client, session, create_customer, create_invoice, login
):
    customer = create_customer(language="en")
    first = create_invoice(customer, issue_date=ISSUED)
    second = create_invoice(customer, issue_date=ISSUED + timedelta(days=30))
    login(client, customer)
    src = _qr_image(client.get("/overview").get_data(as_text=True))["src"]

    response = _get_image(client, src)

    assert response.mimetype == "image/svg+xml"
    assert response.data.lstrip().startswith(b"<?xml") and b'<svg xmlns="http://www.w3.org/2000/svg"' in response.data
    _assert_pays(response.data, session, first.total_cents + second.total_cents, f"{first.number} {second.number}")
    assert response.headers["Cache-Control"] == "private, max-age=3600"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "img-src 'self'" in response.headers["Content-Security-Policy"]
    etag = response.headers["ETag"]
    assert etag
    # The browser asks again with what it kept: nothing is sent (or drawn) again.
    again = client.get(src, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b""


def test_the_qr_code_changes_its_address_when_the_amount_changes(client, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    create_invoice(customer, issue_date=ISSUED)
    login(client, customer)
    before = _qr_image(client.get("/overview").get_data(as_text=True))["src"]
    create_invoice(customer, issue_date=ISSUED + timedelta(days=30))

    after = _qr_image(client.get("/overview").get_data(as_text=True))["src"]

    assert after != before
    # An older page's address still answers with today's code, but the browser must not keep it.
    assert _get_image(client, before).headers["Cache-Control"] == "private, no-cache"
    assert _get_image(client, before).data == _get_image(client, after).data


def test_an_amount_or_account_in_the_address_changes_nothing(client, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    invoice = create_invoice(customer, issue_date=ISSUED)
    login(client, customer)
    src = _qr_image(client.get("/overview").get_data(as_text=True))["src"]
    honest = _get_image(client, src).data

    for query in ("amount=1.00", "amount_cents=100&iban=DE89370400440532013000", "reference=X&name=Mallory&bic=X"):
        assert _get_image(client, f"{src}&{query}").data == honest
        assert _get_image(client, f"/qr/invoices/{invoice.number}?{query}").data == honest


def test_the_invoice_page_qr_code_pays_that_invoice(client, session, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    create_invoice(customer, issue_date=ISSUED)
    invoice = create_invoice(customer, issue_date=ISSUED + timedelta(days=30), number="T2026/77")
    login(client, customer)

    page = client.get(f"/invoices/{invoice.number}").get_data(as_text=True)

    assert "<svg" not in page
    image = _qr_image(page)
    assert image["src"].startswith(f"/qr/invoices/{invoice.number}?")
    assert image["alt"].endswith(f"with reference {invoice.number}")
    _assert_pays(_get_image(client, image["src"]).data, session, invoice.total_cents, invoice.number)


def test_nobody_else_gets_the_qr_code(client, app, create_customer, create_invoice, login):
    alice = create_customer(language="en")
    alice_invoice = create_invoice(alice, issue_date=ISSUED)
    bob = create_customer(language="en")
    create_invoice(bob, issue_date=ISSUED)  # another invoice number: another reference, another code
    login(client, alice)
    src = _qr_image(client.get("/overview").get_data(as_text=True))["src"]
    alice_code = _get_image(client, src).data

    # Without a session: sent to the link page, no image.
    stranger = app.test_client()
    for path in (src, f"/qr/invoices/{alice_invoice.number}"):
        response = stranger.get(path)
        assert response.status_code == 302 and response.headers["Location"] == "/link"
    # Bob, logged in, asking for Alice's invoice: not found; for "the overview's code": his own, never hers.
    other = app.test_client()
    login(other, bob)
    assert other.get(f"/qr/invoices/{alice_invoice.number}").status_code == 404
    assert _get_image(other, src).data != alice_code


def test_no_qr_code_without_an_open_euro_transfer(client, create_customer, create_invoice, login):
    customer = create_customer(language="en")
    paid = create_invoice(customer, issue_date=ISSUED, state="paid", paid_at=None)
    login(client, customer)

    assert client.get("/qr/overview/EUR").status_code == 404  # nothing open
    assert client.get("/qr/overview/USD").status_code == 404
    assert client.get(f"/qr/invoices/{paid.number}").status_code == 404
    assert client.get("/qr/invoices/NO-SUCH-INVOICE").status_code == 404
