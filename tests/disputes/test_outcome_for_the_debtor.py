"""How the debtor learns the outcome: the e-mail (with the credit note attached), and the pages that show the
invoice lowered by it, or the new due date of a rejection."""

from __future__ import annotations

import io
from datetime import timedelta

from pypdf import PdfReader

from portal import clock
from portal.disputes.resolution import reject, resolve_with_credit_notes
from tests.debits.debtor_pages import messages, text_of
from tests.fixtures.factories import TEST_ACTOR


def test_a_credit_note_reduces_the_invoice_and_reaches_the_debtor(
    in_app, client, session, login, energy_invoice, dispute_on, create_staff
) -> None:
    invoice = energy_invoice(customer=None)
    dispute = dispute_on(invoice, lines=[2])
    staff = create_staff("agent")

    [note] = resolve_with_credit_notes(
        session,
        dispute,
        {invoice.id: 1210},
        reason="The fixed charge was billed twice.",
        staff=staff,
        may_exceed_limit=False,
        actor=TEST_ACTOR,
    )
    session.commit()

    [mail] = messages(session, invoice.customer, "dispute_resolved")
    assert "The fixed charge was billed twice." in mail.body_text
    [attached] = mail.attachments
    assert attached.content_type == "application/pdf"
    assert note.number in PdfReader(io.BytesIO(attached.content)).pages[0].extract_text()
    login(client, invoice.customer)
    page = text_of(client.get(f"/invoices/{invoice.number}").get_data(as_text=True))
    assert "Lowered by a credit note" in page and note.number in page
    download = client.get(f"/credit-notes/{note.id}.pdf")
    assert download.status_code == 200 and download.headers["Content-Disposition"].startswith("attachment")
    assert 'data-cents="5445"' in client.get("/pay").get_data(as_text=True)  # 66,55 less 12,10 credited
    shown = text_of(client.get(f"/dispute/{dispute.id}").get_data(as_text=True))
    assert "Resolved: credit note" in shown and "The fixed charge was billed twice." in shown


def test_another_debtor_cannot_download_the_credit_note(
    in_app, client, session, login, energy_invoice, dispute_on, create_staff, create_customer
) -> None:
    invoice = energy_invoice()
    dispute = dispute_on(invoice)
    [note] = resolve_with_credit_notes(
        session,
        dispute,
        {invoice.id: 500},
        reason="Goodwill.",
        staff=create_staff("agent"),
        may_exceed_limit=False,
        actor=TEST_ACTOR,
    )
    session.commit()
    login(client, create_customer())
    assert client.get(f"/credit-notes/{note.id}.pdf").status_code == 404


def test_a_rejection_says_why_and_until_when(
    in_app, client, session, login, energy_invoice, dispute_on, create_staff
) -> None:
    invoice = energy_invoice()
    dispute = dispute_on(invoice)
    new_due = clock.today_for(invoice.customer) + timedelta(days=14)

    reject(
        session,
        dispute,
        reason="The reading was taken by the grid operator on 3 October.",
        new_due_on=new_due,
        staff=create_staff("agent"),
        actor=TEST_ACTOR,
    )
    session.commit()

    [mail] = messages(session, invoice.customer, "dispute_resolved")
    assert "the invoice is correct" in mail.body_text and "grid operator" in mail.body_text
    login(client, invoice.customer)
    shown = text_of(client.get(f"/dispute/{dispute.id}").get_data(as_text=True))
    assert "Resolved: the invoice stands" in shown and "grid operator" in shown
    assert 'data-cents="6655"' in client.get("/pay").get_data(as_text=True)  # payable in full again
