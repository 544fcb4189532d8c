"""Credit notes: a document that lowers what is owed on an invoice, with a readable number per year
("CN-2026-00001"), and its PDF in the customer's language.

A credit note is never more than is still open on the invoice, so ``credited_cents`` stays within the total
(the database checks that too). An invoice with nothing left owed afterwards is settled here, at once: no
reminder, debit or pay page asks for an invoice that was credited away.
"""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.disputes import events as dispute_events
from portal.disputes.errors import DisputeProblem
from portal.disputes.models import CreditNote, Dispute
from portal.events import emit
from portal.extensions import db
from portal.i18n import _, force_locale, format_day, format_money
from portal.invoices.models import Invoice
from portal.invoices.pdf import FONT, MARGIN, MUTED, RULE, TEXT, InvoicePDF, _header, _parties
from portal.settings.services import creditor_details
from portal.staff.models import StaffUser

NUMBER_PREFIX = "CN"
# Two notes issued at once can read the same last number; the second one's insert then fails on the unique
# number and is tried again with the next. More than a handful of collisions in a row is not a race but a bug.
NUMBER_ATTEMPTS = 5


def lock_invoice(session: Session, invoice_id: int) -> Invoice | None:
    """The invoice, locked for this transaction and read afresh: a payment or another credit note meanwhile
    waits for this one, and this one sees what an earlier one left owed."""
    return session.scalar(
        select(Invoice).where(Invoice.id == invoice_id).with_for_update().execution_options(populate_existing=True)
    )


def last_number(session: Session, year: int) -> int:
    """The highest sequence number given out in ``year`` (0 for none yet)."""
    prefix = f"{NUMBER_PREFIX}-{year}-"
    highest = session.scalar(select(func.max(CreditNote.number)).where(CreditNote.number.like(f"{prefix}%")))
    # Zero-padded to the same width, so the highest string is the highest number (until 99,999 a year).
    return int(highest.removeprefix(prefix)) if highest else 0


def format_number(year: int, sequence: int) -> str:
    return f"{NUMBER_PREFIX}-{year}-{sequence:05d}"


def issue_credit_note(
    session: Session,
    invoice: Invoice,
    amount_cents: int,
    *,
    reason: str,
    dispute: Dispute | None = None,
    staff: StaffUser | None = None,
    actor: Actor,
) -> CreditNote:
    """Credit ``amount_cents`` of what is still open on ``invoice``. Raises DisputeProblem (amount_missing,
    amount_too_large, reason_missing) before anything is written."""
    locked = lock_invoice(session, invoice.id)
    if locked is None:
        raise DisputeProblem("unknown_invoice")
    reason = (reason or "").strip()
    if not reason:
        raise DisputeProblem("reason_missing")
    if amount_cents <= 0:
        raise DisputeProblem("amount_missing")
    if amount_cents > locked.outstanding_cents:
        raise DisputeProblem("amount_too_large", maximum=locked.outstanding_cents, currency=locked.currency)
    now = clock.now()
    issued_on = clock.today_for(locked.customer, now)
    note = _insert_numbered(
        session,
        issued_on.year,
        invoice_id=locked.id,
        dispute_id=dispute.id if dispute is not None else None,
        currency=locked.currency,
        amount_cents=amount_cents,
        reason=reason,
        issued_on=issued_on,
        issued_by_id=staff.id if staff is not None else None,
        created_at=now,
    )
    locked.credited_cents += amount_cents
    if locked.outstanding_cents == 0:
        # Nothing is left owed: the invoice is settled now. "paid" when the debtor paid part of it (the
        # credit note took off the rest), so their payment reads as what settled it; "cancelled" when they
        # paid nothing, because the whole amount was credited and an invoice nobody paid is not "paid".
        if locked.paid_cents > 0:
            locked.state = "paid"
            locked.paid_at = now
        else:
            locked.state = "cancelled"
    note.invoice = locked
    emit(session, dispute_events.about_credit_note(note, actor))
    return note


def _insert_numbered(session: Session, year: int, **fields: object) -> CreditNote:
    for _attempt in range(NUMBER_ATTEMPTS):
        number = format_number(year, last_number(session, year) + 1)
        note = CreditNote(number=number, **fields)
        try:
            # A savepoint: a number taken meanwhile undoes only this insert, not the caller's transaction.
            with session.begin_nested():
                session.add(note)
                session.flush()
        except IntegrityError:
            continue
        return note
    raise RuntimeError(f"no free credit note number for {year} after {NUMBER_ATTEMPTS} attempts")


def vat_part_cents(note: CreditNote, invoice: Invoice) -> int:
    """The VAT in a credit note: the invoice's share of VAT in its total, of the credited amount, rounded half
    up. Integer arithmetic, so cents never drift; the rest is the amount excluding VAT."""
    if invoice.total_cents <= 0:
        return 0
    return (2 * note.amount_cents * invoice.vat_cents + invoice.total_cents) // (2 * invoice.total_cents)


def _credit_rows(pdf: InvoicePDF, note: CreditNote, invoice: Invoice) -> None:
    vat = vat_part_cents(note, invoice)
    rows = [(_("Credited excluding VAT"), note.amount_cents - vat), (_("VAT credited"), vat)]
    label_x, label_w, value_w = MARGIN + 60, 70.0, 40.0
    pdf.set_font(FONT, "", 10)
    for label, cents in rows:
        pdf.set_x(label_x)
        pdf.cell(label_w, 6, label, align="R")
        pdf.cell(value_w, 6, format_money(-cents, note.currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_draw_color(*RULE)
    pdf.line(label_x + 20, pdf.get_y() + 1, pdf.w - MARGIN, pdf.get_y() + 1)
    pdf.ln(2.5)
    pdf.set_font(FONT, "B", 12)
    pdf.set_x(label_x)
    pdf.cell(label_w, 7, _("Total credited"), align="R")
    pdf.cell(value_w, 7, format_money(-note.amount_cents, note.currency), align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(8)


def render_credit_note_pdf(note: CreditNote, creditor: dict[str, str]) -> bytes:
    """The credit note as PDF bytes, in the current language: the invoice's letterhead and look."""
    invoice = note.invoice
    footer = creditor["name"]
    if creditor.get("vat_number"):
        footer += "  ·  " + _("VAT number %(vat_number)s", vat_number=creditor["vat_number"])
    pdf = InvoicePDF(footer)
    pdf.set_title(note.number)
    pdf.set_author(creditor["name"])
    pdf.set_lang(invoice.customer.language)
    pdf.add_page()
    pdf.set_text_color(*TEXT)
    _header(pdf, creditor)
    pdf.ln(12)
    pdf.set_font(FONT, "B", 20)
    pdf.cell(0, 10, _("Credit note %(number)s", number=note.number), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    _parties(pdf, invoice)
    pdf.set_font(FONT, "", 10)
    facts = [
        _("Credit note date: %(date)s", date=format_day(note.issued_on)),
        _(
            "This credit note corrects invoice %(number)s of %(date)s (%(amount)s).",
            number=invoice.number,
            date=format_day(invoice.issue_date),
            amount=format_money(invoice.total_cents, invoice.currency),
        ),
    ]
    for line in facts:
        pdf.multi_cell(0, 5.5, line, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font(FONT, "B", 10)
    pdf.cell(0, 6, _("Reason"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font(FONT, "", 10)
    pdf.multi_cell(0, 5.5, note.reason, align="L", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(6)
    _credit_rows(pdf, note, invoice)
    pdf.set_font(FONT, "", 10)
    pdf.set_text_color(*MUTED)
    closing = _(
        "This amount is taken off invoice %(number)s. You do not need to pay it.",
        number=invoice.number,
    )
    pdf.multi_cell(0, 5.5, closing, align="L", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def credit_note_document(note: CreditNote) -> tuple[str, bytes]:
    """(file name, PDF) of a credit note, in the customer's language whoever downloads it: it is their document."""
    with force_locale(note.invoice.customer.language):
        return f"credit-note-{note.number}.pdf", render_credit_note_pdf(note, creditor_details(db.session))
