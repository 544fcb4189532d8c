"""Credit notes: what they take off an invoice, an invoice credited away, their numbers and their PDF."""

from __future__ import annotations

import io
from datetime import UTC, datetime

import pytest
import time_machine
from pypdf import PdfReader
from sqlalchemy import func, select

from portal.accounts.view import balance_of
from portal.disputes import credit_notes
from portal.disputes.credit_notes import credit_note_document, issue_credit_note, vat_part_cents
from portal.disputes.errors import DisputeProblem
from portal.disputes.models import CreditNote
from portal.errors import message_for
from portal.i18n import _, force_locale
from tests.disputes.resolution_support import NOW, events_of
from tests.fixtures.factories import TEST_ACTOR


@pytest.fixture(autouse=True)
def _frozen():
    with time_machine.travel(NOW, tick=False):
        yield


def _pdf_text(pdf: bytes) -> str:
    return " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)


def test_a_credit_note_lowers_what_is_owed_and_the_balance(in_app, session, energy_invoice):
    invoice = energy_invoice()
    assert balance_of(session, invoice.customer).open == {"EUR": 6655}

    note = issue_credit_note(session, invoice, 1210, reason="The fixed charge was billed twice.", actor=TEST_ACTOR)
    session.commit()

    assert note.number == "CN-2026-00001" and note.issued_on == NOW.date()
    assert (invoice.credited_cents, invoice.outstanding_cents, invoice.state) == (1210, 5445, "open")
    assert balance_of(session, invoice.customer).open == {"EUR": 5445}
    [event] = events_of(session, "credit_note.issued", "credit_note", note.id)
    assert event.payload["number"] == "CN-2026-00001" and event.payload["amount_cents"] == 1210


def test_an_invoice_credited_in_full_that_nobody_paid_is_cancelled(in_app, session, energy_invoice):
    invoice = energy_invoice()
    issue_credit_note(session, invoice, 6655, reason="Not our customer in October.", actor=TEST_ACTOR)
    session.commit()
    assert (invoice.state, invoice.outstanding_cents, invoice.paid_at) == ("cancelled", 0, None)
    assert balance_of(session, invoice.customer).open == {}


def test_an_invoice_partly_paid_and_credited_the_rest_is_paid(in_app, session, energy_invoice):
    invoice = energy_invoice(paid_cents=5000)
    issue_credit_note(session, invoice, 1655, reason="Discount for the outage.", actor=TEST_ACTOR)
    session.commit()
    assert (invoice.state, invoice.paid_at, invoice.outstanding_cents) == ("paid", NOW, 0)


def test_a_credit_note_is_never_more_than_is_open_and_then_nothing_is_written(in_app, session, energy_invoice):
    invoice = energy_invoice(paid_cents=5000)
    with pytest.raises(DisputeProblem) as refused:
        issue_credit_note(session, invoice, 1656, reason="Too much.", actor=TEST_ACTOR)
    assert refused.value.code == "amount_too_large"
    with force_locale("en"):
        assert message_for(refused.value) == "A credit note can be at most what is still open on the invoice: €16.55."
    for amount, reason, code in ((0, "x", "amount_missing"), (100, "  ", "reason_missing")):
        with pytest.raises(DisputeProblem) as refused:
            issue_credit_note(session, invoice, amount, reason=reason, actor=TEST_ACTOR)
        assert refused.value.code == code
    session.rollback()
    assert session.scalar(select(func.count()).select_from(CreditNote)) == 0
    assert session.get(type(invoice), invoice.id).credited_cents == 0


def test_two_credit_notes_issued_at_once_get_different_numbers(in_app, session, energy_invoice, monkeypatch):
    first_invoice, second_invoice = energy_invoice(), energy_invoice()
    first = issue_credit_note(session, first_invoice, 500, reason="One.", actor=TEST_ACTOR)
    session.commit()
    # The second reads the last number as it was before the first was written, as a transaction running at
    # the same moment does: its insert of the same number fails, and it takes the next one.
    real, stale = credit_notes.last_number, iter([0])
    monkeypatch.setattr(credit_notes, "last_number", lambda session, year: next(stale, None) or real(session, year))

    second = issue_credit_note(session, second_invoice, 700, reason="Two.", actor=TEST_ACTOR)
    session.commit()

    assert (first.number, second.number) == ("CN-2026-00001", "CN-2026-00002")
    assert (first_invoice.credited_cents, second_invoice.credited_cents) == (500, 700)
    assert len(events_of(session, "credit_note.issued", "credit_note", second.id)) == 1


def test_numbers_start_again_each_year(in_app, session, energy_invoice):
    invoice = energy_invoice()
    issue_credit_note(session, invoice, 100, reason="December.", actor=TEST_ACTOR)
    with time_machine.travel(datetime(2027, 1, 4, 9, tzinfo=UTC), tick=False):
        note = issue_credit_note(session, invoice, 100, reason="January.", actor=TEST_ACTOR)
    assert note.number == "CN-2027-00001"


def test_the_vat_in_a_credit_note_is_the_invoices_share_in_cents(in_app, session, energy_invoice):
    invoice = energy_invoice()  # 55,00 + 11,55 VAT
    note = issue_credit_note(session, invoice, 1210, reason="Fixed charge.", actor=TEST_ACTOR)
    assert vat_part_cents(note, invoice) == 210
    odd = issue_credit_note(session, invoice, 1, reason="One cent.", actor=TEST_ACTOR)
    assert vat_part_cents(odd, invoice) == 0  # 0.17 of a cent rounds to nothing; the cent is excluding VAT


def test_the_credit_note_pdf_is_in_dutch_for_a_dutch_customer(in_app, session, create_customer, energy_invoice):
    invoice = energy_invoice(create_customer(language="nl"))
    note = issue_credit_note(session, invoice, 1210, reason="Het vastrecht stond er twee keer op.", actor=TEST_ACTOR)
    session.commit()

    filename, pdf = credit_note_document(note)

    assert filename == "credit-note-CN-2026-00001.pdf" and pdf.startswith(b"%PDF")
    text = _pdf_text(pdf)
    with force_locale("nl"):  # "Creditnota CN-2026-00001" once the Dutch catalog has it
        assert _("Credit note %(number)s", number="CN-2026-00001") in text
    assert "2 december 2026" in text and "1 oktober 2026" in text, "dates written the Dutch way"
    assert invoice.number in text and invoice.customer.name in text
    assert "Het vastrecht stond er twee keer op." in text
    assert "12,10" in text and "10,00" in text and "2,10" in text  # the amount, excluding VAT, the VAT


def test_the_credit_note_pdf_is_in_english_for_an_english_customer(in_app, session, create_customer, energy_invoice):
    invoice = energy_invoice(create_customer(language="en"))
    note = issue_credit_note(session, invoice, 1210, reason="Billed twice.", actor=TEST_ACTOR)
    text = _pdf_text(credit_note_document(note)[1])
    assert "Credit note CN-2026-00001" in text and f"corrects invoice {invoice.number}" in text
    assert "Total credited" in text and "12.10" in text
