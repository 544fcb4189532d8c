"""Collecting what is due: each notified debit becomes a payment on its period's invoice, handed to its collector.

A debit is a payment like any other once handed over: a Payment with the period's invoice as its one item,
so allocation, receipts, reversals and reconciliation work as for a checkout, and a failed or reversed debit
reopens exactly that invoice. Each debit is handed over in its own transaction, committed before the
collector is called; the collector's idempotency key (debit and attempt) makes a repeated run, or a retry
after a time-out, collect nothing twice.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.business_calendar import add_target_days
from portal.customers.models import Customer
from portal.debits import events as debit_events
from portal.debits import rules
from portal.debits.collector_registry import collector_for
from portal.debits.collectors import Collector, CollectorAnswer, DebitOrder
from portal.debits.holds import collection_hold
from portal.debits.models import Debit, Mandate, ProviderCustomer
from portal.events import emit
from portal.invoices.models import Invoice
from portal.payments import events as payment_events
from portal.payments.models import Payment, PaymentItem
from portal.payments.services import apply_status
from portal.providers.base import ProviderRejected, ProviderStatus, ProviderUnavailable

log = logging.getLogger(__name__)
COLLECTOR_ACTOR = Actor(type="system", id="debits")
# The longest lead any collector has: debits further ahead than this are not looked at yet.
MAX_LEAD_DAYS = 5


@dataclass
class CollectReport:
    collected: list[int] = field(default_factory=list)  # debit ids handed over (paid, or pending at the bank)
    failed: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)  # paid another way before the date
    settled: list[int] = field(default_factory=list)  # the bank's, counted as paid on their date
    waiting_for_invoice: list[int] = field(default_factory=list)
    unavailable: list[int] = field(default_factory=list)  # the collector did not answer: the next run tries again

    def as_json(self) -> dict[str, list[int]]:
        return {name: list(getattr(self, name)) for name in self.__dataclass_fields__}


def invoice_for_period(session: Session, debit: Debit) -> Invoice | None:
    """The invoice the billing system issued for the debit's period: its period starts in that month."""
    if debit.invoice_id is not None:
        return session.get(Invoice, debit.invoice_id)
    year, month = rules.parse_period(debit.period)
    return session.scalars(
        select(Invoice)
        .where(
            Invoice.customer_id == debit.customer_id,
            Invoice.state != "cancelled",
            Invoice.currency == debit.currency,
            Invoice.period_start.is_not(None),
            extract("year", Invoice.period_start) == year,
            extract("month", Invoice.period_start) == month,
        )
        .order_by(Invoice.state == "paid", Invoice.due_date, Invoice.id)
        .limit(1)
    ).first()


def collect_due(
    session: Session,
    *,
    today: date,
    collectors: Callable[[str], Collector] = collector_for,
    actor: Actor = COLLECTOR_ACTOR,
) -> CollectReport:
    """Hand every debit that is due (within its collector's lead) to its collector; settle the bank's that are
    past their date. Commits per debit. Safe to run any number of times."""
    report = CollectReport()
    _settle_own(session, today=today, actor=actor, report=report)
    horizon = add_target_days(today, MAX_LEAD_DAYS)
    due = list(
        session.execute(
            select(Debit.id, Mandate.collector)
            .join(Debit.schedule)
            .join(Mandate)
            .where(Debit.state.in_(("notified", "submitted")), Debit.due_on <= horizon)
            .order_by(Debit.due_on, Debit.id)
        )
    )
    session.commit()
    for debit_id, collector_name in due:
        try:
            collector = collectors(collector_name)
        except KeyError:
            log.warning("debit %s: no collector %r is configured", debit_id, collector_name)
            report.unavailable.append(debit_id)
            continue
        try:
            _collect_one(session, debit_id, collector, today=today, actor=actor, report=report)
            session.commit()
        except Exception:
            session.rollback()
            raise
    return report


def _collect_one(
    session: Session, debit_id: int, collector: Collector, *, today: date, actor: Actor, report: CollectReport
) -> None:
    debit = session.get(Debit, debit_id, with_for_update=True, populate_existing=True)
    if debit is None or debit.due_on > add_target_days(today, collector.lead_days):
        return
    if debit.state == "submitted":
        payment = debit.payment
        if payment is None or payment.state != "created":
            return  # handed over already; its outcome comes from the collector
    else:
        if debit.state != "notified":
            return
        payment = _start(session, debit, collector, actor=actor, report=report)
        if payment is None:
            return
        session.commit()  # before the call to the outside world
    order = _order(session, debit, payment)
    answer = hand_over(collector, order, what=f"debit {debit_id}")
    if answer is None:
        report.unavailable.append(debit_id)
        return
    apply_answer(session, payment, answer, actor=actor)
    (report.failed if answer.state == "failed" else report.collected).append(debit_id)


def hand_over(collector: Collector, order: DebitOrder, *, what: str) -> CollectorAnswer | None:
    """The collector's answer to ``order``: a refusal counts as a failed debit; None when it did not answer
    (the next run tries again with the same idempotency key). ``what`` names the debit in the log."""
    try:
        return collector.collect(order)
    except ProviderUnavailable:
        log.warning("%s: %s did not answer; the next run tries again", what, collector.name)
        return None
    except ProviderRejected as refusal:
        log.warning("%s: %s refused it: %s", what, collector.name, refusal)
        return CollectorAnswer(state="failed", external_id=order.end_to_end_id, failure_code="MS03")


def _start(
    session: Session, debit: Debit, collector: Collector, *, actor: Actor, report: CollectReport
) -> Payment | None:
    invoice = invoice_for_period(session, debit)
    if invoice is None:
        report.waiting_for_invoice.append(debit.id)
        return None
    # Paid another way, or collected by another arrangement (a payment plan's instalments): not by this debit.
    hold = collection_hold(session, invoice) if invoice.outstanding_cents > 0 else "settled"
    if hold is not None:
        debit.invoice_id = invoice.id
        debit.state = "skipped"
        debit.updated_at = clock.now()
        emit(session, debit_events.about_debit(debit_events.SKIPPED, debit, actor, invoice=invoice.number, hold=hold))
        report.skipped.append(debit.id)
        return None
    # Never more than was pre-notified, and never more than is still owed on the invoice.
    amount = min(debit.amount_cents, invoice.outstanding_cents)
    payment = start_collection_payment(session, debit.customer, collector, [invoice], amount, actor=actor)
    debit.invoice_id = invoice.id
    debit.payment_id = payment.id
    debit.state = "submitted"
    debit.updated_at = payment.created_at
    return payment


def start_collection_payment(
    session: Session, customer: Customer, collector: Collector, invoices: list[Invoice], amount: int, *, actor: Actor
) -> Payment:
    """A direct-debit Payment of ``amount`` over ``invoices`` (in the order the money goes to them), for
    ``collector`` to carry out: a period's debit and a plan's instalment alike. Flushed, not committed."""
    now = clock.now()
    payment = Payment(
        public_id=secrets.token_urlsafe(16),
        customer_id=customer.id,
        provider=collector.payment_provider,
        method="directdebit",
        state="created",
        currency=invoices[0].currency,
        amount_cents=amount,
        locale=customer.language,
        created_at=now,
        updated_at=now,
    )
    payment.items = [
        PaymentItem(invoice_id=invoice.id, position=position, outstanding_cents=invoice.outstanding_cents)
        for position, invoice in enumerate(invoices)
    ]
    session.add(payment)
    session.flush()
    emit(
        session,
        payment_events.about(
            payment_events.STARTED,
            payment,
            actor,
            amount_cents=amount,
            method="directdebit",
            provider=collector.payment_provider,
            invoices=[invoice.number for invoice in invoices],
        ),
    )
    return payment


def _order(session: Session, debit: Debit, payment: Payment) -> DebitOrder:
    mandate = debit.schedule.mandate
    return DebitOrder(
        debit_id=debit.id,
        payment_id=payment.id,
        end_to_end_id=debit.end_to_end_id,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        due_on=debit.due_on,
        mandate_reference=mandate.reference,
        mandate_signed_on=mandate.signed_on,
        debtor_name=mandate.debtor_name,
        iban=mandate.iban,
        bic=mandate.bic,
        description=f"{debit.invoice.number if debit.invoice else debit.period} {payment.reference}",
        idempotency_key=f"debit-{debit.id}-{debit.attempt}",
        provider_mandate_id=mandate.provider_mandate_id,
        provider_customer_id=provider_customer_of(session, debit.customer_id, mandate.collector),
    )


def provider_customer_of(session: Session, customer_id: int, collector: str) -> str | None:
    """A provider's mandate hangs on its customer record of this debtor (Mollie's customer, Stripe's customer)."""
    return session.scalars(
        select(ProviderCustomer.external_id).where(
            ProviderCustomer.customer_id == customer_id, ProviderCustomer.provider == collector
        )
    ).first()


def apply_answer(session: Session, payment: Payment, answer: CollectorAnswer, *, actor: Actor) -> None:
    """The collector's answer, applied as any provider's news is: through the payments' one door."""
    status = ProviderStatus(
        external_id=answer.external_id,
        state=answer.state,
        amount_cents=payment.amount_cents,
        currency=payment.currency,
        method="directdebit",
        payment_id=payment.id,
        failure_reason=answer.failure_code,
    )
    apply_status(session, payment.id, status, actor=actor)


def _settle_own(session: Session, *, today: date, actor: Actor, report: CollectReport) -> None:
    """The bank's debits count as paid on their date; a return in the bank's file undoes one that failed."""
    pending = list(
        session.scalars(
            select(Debit)
            .join(Payment, Payment.id == Debit.payment_id)
            .where(
                Debit.state == "submitted",
                Debit.due_on <= today,
                Payment.provider == "bank",
                Payment.state == "pending",
            )
            .order_by(Debit.id)
        )
    )
    for debit in pending:
        payment = debit.payment
        if payment is None or payment.external_id is None:
            continue
        answer = CollectorAnswer(state="paid", external_id=payment.external_id)
        apply_answer(session, payment, answer, actor=actor)
        report.settled.append(debit.id)
        session.commit()


def outcomes_between(session: Session, start: datetime, end: datetime) -> dict[str, int]:
    """How many debits were collected and how many failed in [start, end): what a day's runs together did."""
    collected = session.scalar(
        select(func.count(Debit.id)).where(Debit.collected_at >= start, Debit.collected_at < end)
    )
    failed = session.scalar(select(func.count(Debit.id)).where(Debit.failed_at >= start, Debit.failed_at < end))
    return {"collected": int(collected or 0), "failed": int(failed or 0)}
