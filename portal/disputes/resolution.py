"""How a dispute ends, decided by staff: credit notes, a corrected invoice, or a rejection with a new due date.

Each takes the dispute's lock first and refuses a dispute that is no longer open (``not_open``: a second click
or a colleague who was quicker), checks everything before it writes, and ends with one ``dispute.resolved``
event. Every outcome changes what the account view says is owed: a credit note lowers the invoice, a corrected
invoice replaces it, and a rejection asks for the disputed part again (a hold only counts open disputes), while
reminders wait until the new due date has passed where the customer lives.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.disputes import events as dispute_events
from portal.disputes.credit_notes import issue_credit_note, lock_invoice
from portal.disputes.errors import DisputeProblem
from portal.disputes.models import CreditNote, Dispute, DisputeInvoice
from portal.disputes.services import lock_dispute
from portal.events import emit
from portal.i18n import _, force_locale
from portal.invoices import events as invoice_events
from portal.invoices.models import Invoice, InvoiceLine, InvoiceVatTotal
from portal.invoices.numbers import MAX_LENGTH, shortened
from portal.settings.dispute_settings import DISPUTE_SUPERVISOR_CREDIT_ABOVE_KEY
from portal.settings.services import get_setting
from portal.staff.models import StaffUser

# A rejection gives the debtor time to pay what was disputed; longer than this is a payment plan, not a due date.
REJECTION_MAX_DAYS = 60
# A corrected invoice's number is the original's with -C, then -C2 ... -C99 (see _corrected_number).
CORRECTED_SUFFIX = "-C"
MAX_CORRECTIONS = 99


def _open_locked(session: Session, dispute: Dispute) -> Dispute:
    locked = lock_dispute(session, dispute.id)
    if locked is None or not locked.is_open:
        raise DisputeProblem("not_open")
    return locked


def _reason(text: str | None) -> str:
    cleaned = (text or "").strip()
    if not cleaned:
        raise DisputeProblem("reason_missing")
    return cleaned


def _covered(dispute: Dispute, invoice_id: int) -> DisputeInvoice:
    for covered in dispute.invoices:
        if covered.invoice_id == invoice_id:
            return covered
    raise DisputeProblem("invoice_not_in_dispute")


def credit_limit_cents(session: Session) -> int:
    """Credit notes above this total (in cents) resolve a dispute only by a supervisor."""
    return int(get_setting(session, DISPUTE_SUPERVISOR_CREDIT_ABOVE_KEY))


def _check_limit(session: Session, gained_cents: int, currency: str, may_exceed_limit: bool) -> None:
    limit = credit_limit_cents(session)
    if gained_cents > limit and not may_exceed_limit:
        raise DisputeProblem("needs_supervisor", limit=limit, currency=currency)


def _resolve(
    session: Session,
    dispute: Dispute,
    outcome: str,
    note: str,
    staff: StaffUser | None,
    actor: Actor,
    **payload: object,
) -> None:
    now = clock.now()
    dispute.status = "resolved"
    dispute.outcome = outcome
    dispute.outcome_note = note
    dispute.resolved_at = dispute.updated_at = now
    dispute.resolved_by_id = staff.id if staff is not None else None
    emit(session, dispute_events.about_dispute(dispute_events.RESOLVED, dispute, actor, outcome=outcome, **payload))


def resolve_with_credit_notes(
    session: Session,
    dispute: Dispute,
    amounts: dict[int, int],  # invoice id -> cents to credit on it
    *,
    reason: str,
    staff: StaffUser | None,
    may_exceed_limit: bool,
    actor: Actor,
) -> list[CreditNote]:
    """One credit note per invoice of the dispute with a positive amount. The reasons are the debtor's to read."""
    dispute = _open_locked(session, dispute)
    note = _reason(reason)
    if any(cents < 0 for cents in amounts.values()):
        raise DisputeProblem("amount_missing")
    wanted = {_covered(dispute, invoice_id).invoice_id: cents for invoice_id, cents in amounts.items() if cents > 0}
    if not wanted:
        raise DisputeProblem("amount_missing")
    total = sum(wanted.values())
    _check_limit(session, total, dispute.currency, may_exceed_limit)
    # Every amount is checked against its locked invoice before the first note is written, so a refusal on the
    # second invoice leaves no note on the first. Locked in id order, as payments lock them: no deadlock.
    invoices = {invoice_id: lock_invoice(session, invoice_id) for invoice_id in sorted(wanted)}
    for invoice_id, cents in wanted.items():
        invoice = invoices[invoice_id]
        if invoice is None or cents > invoice.outstanding_cents:
            maximum = invoice.outstanding_cents if invoice is not None else 0
            raise DisputeProblem("amount_too_large", maximum=maximum, currency=dispute.currency)
    notes = [
        issue_credit_note(session, invoice, wanted[invoice_id], reason=note, dispute=dispute, staff=staff, actor=actor)
        for invoice_id, invoice in invoices.items()
        if invoice is not None
    ]
    _resolve(
        session,
        dispute,
        "credit_note",
        note,
        staff,
        actor,
        credited_cents=total,
        credit_notes=[credit.number for credit in notes],
    )
    return notes


def _check_new_due_date(customer: Customer, due_on: date | None, *, at_most_days: int | None = None) -> None:
    if due_on is None:
        raise DisputeProblem("due_date_missing")
    today = clock.today_for(customer)
    if due_on <= today:
        raise DisputeProblem("due_date_past")
    if at_most_days is not None and due_on > today + timedelta(days=at_most_days):
        raise DisputeProblem("due_date_too_far", days=at_most_days)


def _corrected_number(session: Session, original: Invoice) -> str:
    """``<number>-C``, then ``-C2``, ``-C3``: an invoice corrected more than once keeps a readable trail.

    The result always fits the column: a number too long for its suffix keeps its start and end around a ``~``
    (``invoices.numbers.shortened``), only as much shorter as needed. Two long numbers that shorten alike are
    told apart by the suffix, as every candidate is checked against the numbers already taken.
    """
    suffixes = [CORRECTED_SUFFIX, *(f"{CORRECTED_SUFFIX}{sequence}" for sequence in range(2, MAX_CORRECTIONS + 1))]
    candidates = [shortened(original.number, MAX_LENGTH - len(suffix)) + suffix for suffix in suffixes]
    taken = set(session.scalars(select(Invoice.number).where(Invoice.number.in_(candidates))))
    for candidate in candidates:
        if candidate not in taken:
            return candidate
    # Each correction credits what was open in full, so one number is corrected again only after it reopens.
    raise RuntimeError(f"no free number for a correction of invoice {original.id} after {MAX_CORRECTIONS} tries")


def vat_split(total_cents: int, rate: Decimal) -> tuple[int, int]:
    """(amount excluding VAT, VAT) of an amount including VAT at ``rate`` percent, rounded half up on the VAT
    exclusive part; the two always add up to ``total_cents``."""
    hundredths = int(rate * 100)  # rates have two decimals (Numeric(5, 2))
    denominator = 10_000 + hundredths
    subtotal = (2 * total_cents * 10_000 + denominator) // (2 * denominator)
    return subtotal, total_cents - subtotal


def _original_rate(invoice: Invoice, dispute: Dispute) -> Decimal:
    """The VAT rate of the disputed lines when they share one (a 9 % line disputed on an invoice that is
    mostly 21 %), else of the invoice's first line."""
    disputed = {Decimal(item.line.vat_rate) for item in dispute.lines if item.line.invoice_id == invoice.id}
    if len(disputed) == 1:
        return disputed.pop()
    if invoice.lines:
        return Decimal(invoice.lines[0].vat_rate)
    if invoice.vat_totals:
        return Decimal(invoice.vat_totals[0].rate)
    return Decimal(0)


def _corrected_invoice(
    session: Session, original: Invoice, cents: int, due_on: date, actor: Actor, *, rate: Decimal
) -> Invoice:
    customer = original.customer
    subtotal, vat = vat_split(cents, rate)
    with force_locale(customer.language):
        description = _("Corrected invoice for %(number)s", number=original.number)
    corrected = Invoice(
        customer_id=customer.id,
        number=_corrected_number(session, original),
        category=original.category,
        issue_date=clock.today_for(customer),
        due_date=due_on,
        period_start=original.period_start,
        period_end=original.period_end,
        currency=original.currency,
        subtotal_cents=subtotal,
        vat_cents=vat,
        total_cents=cents,
        state="open",
        paid_cents=0,
        credited_cents=0,
    )
    corrected.lines.append(
        InvoiceLine(
            position=1,
            description=description[:300],
            quantity=Decimal(1),
            unit="",
            unit_price=Decimal(subtotal) / 100,
            vat_rate=rate,
            amount_cents=subtotal,
        )
    )
    corrected.vat_totals.append(InvoiceVatTotal(rate=rate, base_cents=subtotal, vat_cents=vat))
    session.add(corrected)
    session.flush()
    # As an import does: the customer's story and the creditor's systems hear of a new invoice.
    emit(session, invoice_events.issued(corrected, actor))
    return corrected


def resolve_with_corrected_invoice(
    session: Session,
    dispute: Dispute,
    invoice_id: int,
    corrected_cents: int,
    due_on: date | None,
    *,
    reason: str,
    staff: StaffUser | None,
    may_exceed_limit: bool,
    actor: Actor,
) -> Invoice:
    """Credit what is open on the invoice in full and issue a new invoice for ``corrected_cents`` (including
    VAT, at the original's rate). What the customer gains (credited less the corrected amount) follows the
    same supervisor limit as a credit note. Returns the corrected invoice."""
    dispute = _open_locked(session, dispute)
    note = _reason(reason)
    covered = _covered(dispute, invoice_id)
    original = lock_invoice(session, covered.invoice_id)
    if original is None or original.outstanding_cents <= 0:
        raise DisputeProblem("nothing_to_correct", number=covered.invoice.number)
    open_cents = original.outstanding_cents
    if corrected_cents <= 0:
        raise DisputeProblem("corrected_amount_missing")
    if corrected_cents >= open_cents:
        raise DisputeProblem("corrected_not_lower", maximum=open_cents, currency=original.currency)
    _check_new_due_date(original.customer, due_on)
    assert due_on is not None  # checked above; for the type checker
    _check_limit(session, open_cents - corrected_cents, original.currency, may_exceed_limit)
    credit = issue_credit_note(session, original, open_cents, reason=note, dispute=dispute, staff=staff, actor=actor)
    rate = _original_rate(original, dispute)
    corrected = _corrected_invoice(session, original, corrected_cents, due_on, actor, rate=rate)
    dispute.corrected_invoice_id = corrected.id
    _resolve(
        session,
        dispute,
        "corrected_invoice",
        note,
        staff,
        actor,
        credited_cents=open_cents,
        credit_notes=[credit.number],
        corrected_invoice=corrected.number,
        corrected_cents=corrected_cents,
    )
    return corrected


def end_of_day(customer: Customer, day: date) -> datetime:
    """The moment ``day`` ends where the customer lives (their midnight after it), in UTC."""
    midnight = datetime.combine(day + timedelta(days=1), time.min, tzinfo=clock.zone_of(customer))
    return midnight.astimezone(UTC)


def reject(
    session: Session,
    dispute: Dispute,
    *,
    reason: str,
    new_due_on: date | None,
    staff: StaffUser | None,
    actor: Actor,
) -> None:
    """Nothing is credited: the disputed part is asked for again at once, and reminders, costs and hand-over
    wait until the end of ``new_due_on`` where the customer lives (pausing.py reads ``paused_until``)."""
    dispute = _open_locked(session, dispute)
    note = _reason(reason)
    _check_new_due_date(dispute.customer, new_due_on, at_most_days=REJECTION_MAX_DAYS)
    assert new_due_on is not None  # checked above; for the type checker
    dispute.new_due_on = new_due_on
    dispute.paused_until = end_of_day(dispute.customer, new_due_on)
    _resolve(session, dispute, "rejected", note, staff, actor, credited_cents=0, new_due_on=new_due_on.isoformat())
