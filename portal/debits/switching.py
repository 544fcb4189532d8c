"""Switching to direct debit: a customer paying by hand picks a collection day and pays an open invoice with a
first payment (Mollie's iDEAL or Bancontact "first" payment, Stripe's equivalent, the demo's), which leaves a
mandate behind at the provider. Once that payment is paid, the mandate and the schedule are made here.

The payment's PAID event is the one moment that happens exactly once per payment, whoever brings the news (the
return page, a webhook, reconciliation), so the mandate is made in reaction to it, in the same transaction.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.customers.models import Customer

# mandates as a module, not its names: it imports the events module, which loads this one (its bottom imports).
from portal.debits import mandates, rules
from portal.debits.errors import DebitProblem
from portal.debits.models import DebitSchedule, DebitSwitch, Mandate
from portal.debits.policy import debit_policy
from portal.debits.services import active_schedule, upcoming_debits
from portal.events.models import DomainEvent
from portal.events.registry import react_to
from portal.invoices.models import Invoice
from portal.payments import events as payment_events
from portal.payments.models import Payment
from portal.payments.services import PaymentChoice, start_payment
from portal.providers.demo import DEMO_MANDATE_IBAN

log = logging.getLogger(__name__)
METHOD = "directdebit"
# The providers that keep the mandate a first payment made; each is also the mandate's collector.
PROVIDER_COLLECTORS = ("mollie", "stripe", "demo")
# Characters a UMR may hold (the SEPA rulebook's Latin set, without the space).
_NOT_IN_UMR = re.compile(r"[^A-Za-z0-9/?:().,'+-]")


def can_switch(session: Session, customer: Customer) -> bool:
    """Only a customer without a running direct debit can switch to one."""
    return active_schedule(session, customer.id) is None


def start_switch(
    session: Session,
    customer: Customer,
    choice: PaymentChoice,
    *,
    day: int,
    provider: str,
    locale: str,
    actor: Actor,
) -> Payment:
    """The first payment for ``choice`` (one invoice, in full), with the chosen ``day`` kept alongside.

    A second click reuses the unfinished payment (``start_payment``) and keeps the day chosen last.
    """
    if not can_switch(session, customer):
        raise DebitProblem("already_on_direct_debit")
    if day not in debit_policy(session).allowed_days:
        raise DebitProblem("day_not_allowed")
    payment = start_payment(session, customer, choice, provider=provider, method=METHOD, locale=locale, actor=actor)
    switch = session.scalars(select(DebitSwitch).where(DebitSwitch.payment_id == payment.id)).one_or_none()
    if switch is None:
        switch = DebitSwitch(payment_id=payment.id, customer_id=customer.id, day_of_month=day, created_at=clock.now())
        session.add(switch)
    switch.day_of_month = day
    switch.updated_at = clock.now()
    session.flush()
    return payment


def reported_iban(payment: Payment) -> str | None:
    """The account the first payment came from, where we know it.

    The demo's mandates carry the demo's IBAN; Mollie reports the payer's account on the first payment.
    Stripe gives only its country and last four digits (``Payment.payer_account_hint``): Stripe collects.
    """
    return DEMO_MANDATE_IBAN if payment.provider == "demo" else payment.payer_iban


def new_reference(session: Session, customer: Customer) -> str:
    """A UMR of our own: the customer's reference and a counter, e.g. ``C-1001-DD-01`` (at most 35 characters)."""
    stem = _NOT_IN_UMR.sub("", customer.external_ref)[: mandates.MAX_REFERENCE - 7] or f"K{customer.id}"
    count = session.scalar(select(func.count(Mandate.id)).where(Mandate.customer_id == customer.id)) or 0
    while True:
        count += 1
        reference = f"{stem}-DD-{count:02d}"
        if session.scalar(select(Mandate.id).where(Mandate.reference == reference)) is None:
            return reference


def _first_period(session: Session, customer: Customer, invoice: Invoice | None, day: int, today: date) -> str:
    """The period after the paid invoice's (it is paid now), and after anything collected before, as soon as the
    notice period allows."""
    paid_period = rules.period_of(invoice.period_start if invoice and invoice.period_start else today)
    covered = mandates.last_covered_period(session, customer.id)
    not_before = max(rules.next_period(paid_period), rules.next_period(covered) if covered else "")
    return mandates.first_collectable_period(
        day, today=today, notice_days=debit_policy(session).notice_days, not_before=not_before
    )


def _set_up(session: Session, event: DomainEvent) -> None:
    if event.subject_type != "payment" or event.subject_id is None:
        return
    switch = session.scalars(select(DebitSwitch).where(DebitSwitch.payment_id == int(event.subject_id))).one_or_none()
    if switch is None or switch.mandate_id is not None:
        return
    payment = switch.payment
    customer = payment.customer
    if not can_switch(session, customer):
        return  # a direct debit was set up meanwhile (another first payment, the import): never two
    iban = reported_iban(payment)
    hint = payment.payer_account_hint
    if payment.provider not in PROVIDER_COLLECTORS or (iban is None and hint is None):
        log.warning("payment %s: paid as a first payment, but %s reports no account", payment.id, payment.provider)
        return
    actor = Actor(type=event.actor_type, id=event.actor_id)
    today = clock.today_for(customer)
    mandate = mandates.create_mandate(
        session,
        customer,
        reference=new_reference(session, customer),
        signed_on=today,
        debtor_name=customer.name,
        iban=iban,
        account_hint=None if iban else hint,
        collector=payment.provider,
        provider_mandate_id=payment.mandate_reference,
        actor=actor,
    )
    invoice = payment.items[0].invoice if payment.items else None
    mandates.create_schedule(
        session,
        mandate,
        day_of_month=switch.day_of_month,
        amount_cents=invoice.total_cents if invoice else payment.amount_cents,
        currency=payment.currency,
        first_period=_first_period(session, customer, invoice, switch.day_of_month, today),
        actor=actor,
    )
    switch.mandate_id = mandate.id
    switch.updated_at = clock.now()


react_to(payment_events.PAID, _set_up)


@dataclass(frozen=True)
class SwitchOutcome:
    """What the confirmation page tells: the payment's state and, once made, the schedule and its first debit."""

    payment: Payment
    day: int
    schedule: DebitSchedule | None
    first_debit: rules.PlannedDebit | None


def switch_of(session: Session, payment: Payment) -> DebitSwitch | None:
    return session.scalars(select(DebitSwitch).where(DebitSwitch.payment_id == payment.id)).one_or_none()


def outcome_of(session: Session, switch: DebitSwitch) -> SwitchOutcome:
    payment = switch.payment
    schedule = None
    if switch.mandate_id is not None:
        schedule = session.scalars(
            select(DebitSchedule).where(DebitSchedule.mandate_id == switch.mandate_id).order_by(DebitSchedule.id)
        ).first()
    first = None
    if schedule is not None:
        coming = upcoming_debits(session, schedule, today=clock.today_for(payment.customer), count=1)
        first = coming[0] if coming else None
    return SwitchOutcome(payment, switch.day_of_month, schedule, first)
