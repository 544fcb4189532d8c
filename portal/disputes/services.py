"""The debtor's side of a dispute: open one on invoices or lines of them, write and add files, withdraw it.

A dispute pauses dunning for its invoices from the moment it is written (portal/disputes/pausing.py): no
reminder, cost or hand-over waits for staff to read it.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from portal import clock
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.disputes import events as dispute_events
from portal.disputes.conversation import add_message, clean_text
from portal.disputes.errors import DisputeProblem
from portal.disputes.models import (
    DISPUTE_REASONS,
    OPEN_DISPUTE_STATES,
    Dispute,
    DisputeInvoice,
    DisputeLine,
    DisputeMessage,
)
from portal.disputes.rules import deadlines, line_with_vat_cents, new_reference
from portal.events import emit
from portal.invoices.models import Invoice
from portal.settings.dispute_settings import DISPUTE_FIRST_RESPONSE_DAYS_KEY, DISPUTE_RESOLUTION_DAYS_KEY
from portal.settings.services import get_setting

if TYPE_CHECKING:
    from portal.disputes.uploads import CheckedUpload
    from portal.storage import FileStore

OUTSTANDING = Invoice.outstanding_cents
# What one debtor may send in a day: plenty for a real question, not enough to fill the file store.
OPENED_PER_DAY = 10
MESSAGES_PER_DAY = 30


@dataclass
class Choice:
    """What the debtor disputes: invoices by number, and for some of them only these line ids."""

    invoice_numbers: list[str]
    line_ids: set[int] = field(default_factory=set)


def open_disputes(session: Session, customer: Customer) -> list[Dispute]:
    return list(
        session.scalars(
            select(Dispute)
            .where(Dispute.customer_id == customer.id, Dispute.status.in_(OPEN_DISPUTE_STATES))
            .options(selectinload(Dispute.invoices).selectinload(DisputeInvoice.invoice))
            .order_by(Dispute.created_at)
        )
    )


def disputes_of(session: Session, customer: Customer) -> list[Dispute]:
    """Every dispute of the customer, newest first: the open ones and how the others ended."""
    return list(
        session.scalars(
            select(Dispute)
            .where(Dispute.customer_id == customer.id)
            .options(selectinload(Dispute.invoices).selectinload(DisputeInvoice.invoice))
            .order_by(Dispute.created_at.desc(), Dispute.id.desc())
        )
    )


def disputing(session: Session, customer: Customer) -> dict[int, Dispute]:
    """The open dispute about each invoice of the customer, by invoice id: what the overview marks."""
    return {covered.invoice_id: dispute for dispute in open_disputes(session, customer) for covered in dispute.invoices}


def disputable_invoices(session: Session, customer: Customer) -> list[Invoice]:
    """Open invoices with something owed that no open dispute covers yet, oldest first, with their lines."""
    taken = set(disputing(session, customer))
    invoices = session.scalars(
        select(Invoice)
        .where(Invoice.customer_id == customer.id, Invoice.state == "open", OUTSTANDING > 0)
        .options(selectinload(Invoice.lines))
        .order_by(Invoice.due_date, Invoice.number)
    )
    return [invoice for invoice in invoices if invoice.id not in taken]


def _held_on(invoice: Invoice, line_ids: set[int]) -> tuple[bool, int, list[int]]:
    chosen = [line for line in invoice.lines if line.id in line_ids]
    if not chosen or len(chosen) == len(invoice.lines):
        return True, invoice.outstanding_cents, []
    # Never more than is still owed (a line of an invoice already partly paid holds only what is left), and
    # never less than nothing: a disputed discount line (a tax reduction) holds no money, though it pauses.
    held = max(min(sum(line_with_vat_cents(line) for line in chosen), invoice.outstanding_cents), 0)
    return False, held, [line.id for line in chosen]


def missing_answers(choice: Choice, reason: str, explanation: str | None) -> dict[str, DisputeProblem]:
    """What the debtor left out of the form, all of it at once (the form says each at its own field), by field:
    the same answers ``open_dispute`` refuses to do without."""
    missing = {}
    if not choice.invoice_numbers:
        missing["invoice"] = DisputeProblem("no_invoices")
    if reason not in DISPUTE_REASONS:
        missing["reason"] = DisputeProblem("no_reason")
    if not (explanation or "").strip():
        missing["explanation"] = DisputeProblem("explanation_missing")
    return missing


def open_dispute(
    session: Session,
    store: FileStore,
    customer: Customer,
    choice: Choice,
    *,
    reason: str,
    explanation: str | None,
    uploads: Sequence[CheckedUpload] = (),
    actor: Actor,
) -> Dispute:
    """Open a dispute on the chosen invoices (or lines), with the debtor's explanation and files as its first
    message. Raises DisputeProblem for a choice that cannot be disputed; nothing is written then."""
    if reason not in DISPUTE_REASONS:
        raise DisputeProblem("no_reason")
    _within_daily_limits(session, customer)
    text = clean_text(explanation, required=True, code="explanation_missing")
    invoices = _chosen_invoices(session, customer, choice.invoice_numbers)
    known_lines = {line.id for invoice in invoices for line in invoice.lines}
    if not choice.line_ids <= known_lines:
        raise DisputeProblem("unknown_line")
    now = clock.now()
    today = clock.today_for(customer, now)
    due = deadlines(
        today,
        first_response_days=int(get_setting(session, DISPUTE_FIRST_RESPONSE_DAYS_KEY)),
        resolution_days=int(get_setting(session, DISPUTE_RESOLUTION_DAYS_KEY)),
        country=customer.country,
    )
    dispute = Dispute(
        customer=customer,
        reference=new_reference(),
        reason=reason,
        status="open",
        currency=invoices[0].currency,
        held_cents=0,
        first_response_due_on=due.first_response_on,
        resolution_due_on=due.resolution_on,
        repeat_of_id=_earlier_for_the_same_reason(session, customer, reason),
        created_at=now,
        updated_at=now,
    )
    for invoice in invoices:
        whole, held, line_ids = _held_on(invoice, choice.line_ids)
        dispute.invoices.append(DisputeInvoice(invoice_id=invoice.id, invoice=invoice, whole=whole, held_cents=held))
        dispute.lines.extend(DisputeLine(invoice_line_id=line_id) for line_id in line_ids)
        dispute.held_cents += held
    session.add(dispute)
    session.flush()
    add_message(session, store, dispute, author="debtor", body=text, uploads=uploads)
    emit(session, dispute_events.about_dispute(dispute_events.OPENED, dispute, actor, files=len(uploads)))
    return dispute


def _chosen_invoices(session: Session, customer: Customer, numbers: Iterable[str]) -> list[Invoice]:
    wanted = list(dict.fromkeys(number for number in numbers if number))
    if not wanted:
        raise DisputeProblem("no_invoices")
    found = {
        invoice.number: invoice
        for invoice in session.scalars(
            select(Invoice)
            .where(Invoice.customer_id == customer.id, Invoice.number.in_(wanted))
            .options(selectinload(Invoice.lines))
            # Locked, so a payment or a second click cannot slip between this check and the rows written.
            .with_for_update()
        )
    }
    taken = disputing(session, customer)
    invoices = []
    for number in wanted:
        invoice = found.get(number)
        if invoice is None:
            raise DisputeProblem("unknown_invoice")
        if invoice.outstanding_cents <= 0:
            raise DisputeProblem("invoice_not_open", number=number)
        if invoice.id in taken:
            raise DisputeProblem("already_disputed", number=number, reference=taken[invoice.id].reference)
        invoices.append(invoice)
    if len({invoice.currency for invoice in invoices}) > 1:
        raise DisputeProblem("mixed_currencies")
    return invoices


def _earlier_for_the_same_reason(session: Session, customer: Customer, reason: str) -> int | None:
    return session.scalar(
        select(Dispute.id)
        .where(Dispute.customer_id == customer.id, Dispute.reason == reason)
        .order_by(Dispute.created_at.desc(), Dispute.id.desc())
        .limit(1)
    )


def debtor_writes(
    session: Session,
    store: FileStore,
    dispute: Dispute,
    body: str | None,
    uploads: Sequence[CheckedUpload] = (),
    *,
    actor: Actor,
) -> None:
    dispute = _still_open(session, dispute)
    _within_daily_limits(session, dispute.customer)
    text = clean_text(body, required=not uploads)
    add_message(session, store, dispute, author="debtor", body=text, uploads=uploads)
    emit(session, dispute_events.about_dispute(dispute_events.DEBTOR_REPLIED, dispute, actor, files=len(uploads)))


def withdraw(session: Session, dispute: Dispute, *, actor: Actor) -> None:
    """The debtor takes it back: the invoices are asked for in full again, and dunning resumes."""
    dispute = _still_open(session, dispute)
    dispute.status = "withdrawn"
    dispute.resolved_at = dispute.updated_at = clock.now()
    emit(session, dispute_events.about_dispute(dispute_events.WITHDRAWN, dispute, actor))


def _within_daily_limits(session: Session, customer: Customer) -> None:
    since = clock.now() - timedelta(days=1)
    opened = session.scalar(select(func.count()).where(Dispute.customer_id == customer.id, Dispute.created_at >= since))
    written = session.scalar(
        select(func.count())
        .select_from(DisputeMessage)
        .join(Dispute, Dispute.id == DisputeMessage.dispute_id)
        .where(
            Dispute.customer_id == customer.id, DisputeMessage.author == "debtor", DisputeMessage.created_at >= since
        )
    )
    if (opened or 0) >= OPENED_PER_DAY or (written or 0) >= MESSAGES_PER_DAY:
        raise DisputeProblem("too_many_today")


def _still_open(session: Session, dispute: Dispute) -> Dispute:
    """The dispute locked and read again: staff may have resolved it since the debtor's page was drawn, and a
    withdrawal or a reply must not land on a decision."""
    locked = lock_dispute(session, dispute.id)
    if locked is None or not locked.is_open:
        raise DisputeProblem("closed")
    return locked


def lock_dispute(session: Session, dispute_id: int) -> Dispute | None:
    """The dispute, locked for this transaction: two staff (or a staff member and the debtor) acting at once
    take turns, and the second sees what the first did."""
    return session.scalar(
        select(Dispute).where(Dispute.id == dispute_id).with_for_update().execution_options(populate_existing=True)
    )
