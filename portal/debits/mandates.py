"""Creating mandates and schedules: from the CSV import, a first payment in the portal, and later the API."""

from __future__ import annotations

from datetime import date, timedelta

from schwifty import IBAN
from schwifty.exceptions import SchwiftyException
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.customers.models import Customer
from portal.debits import events as debit_events
from portal.debits import rules
from portal.debits.errors import DebitProblem
from portal.debits.models import COLLECTORS, Debit, DebitSchedule, Mandate
from portal.events import emit

MAX_REFERENCE = 35


def compact_iban(text: str) -> str:
    """The IBAN in its compact form; DebitProblem("invalid_iban") when its check digits or length are wrong."""
    try:
        return IBAN(text).compact
    except SchwiftyException:
        raise DebitProblem("invalid_iban") from None


def first_collectable_period(day_of_month: int, *, today: date, notice_days: int, not_before: str | None = None) -> str:
    """The first period, from ``not_before`` (or this month) on, whose debit date is at least the notice period
    away: a new schedule's first debit can then be pre-notified in time."""
    period = max(rules.period_of(today), not_before or "")
    earliest = today + timedelta(days=notice_days)
    while rules.debit_date(period, day_of_month) < earliest:
        period = rules.next_period(period)
    return period


def last_covered_period(session: Session, customer_id: int) -> str | None:
    """The latest period any of the customer's schedules has a debit for (cancelled ones aside): a new schedule
    starts after it, so no period is collected twice (rule 4), not even across mandates."""
    return session.scalar(
        select(func.max(Debit.period)).where(Debit.customer_id == customer_id, Debit.state != "cancelled")
    )


def _iban_or_none_held(iban: str | None, collector: str, account_hint: str | None) -> str:
    """The compact IBAN; empty only for a Stripe mandate, whose IBAN Stripe keeps (and collects from) itself."""
    if not iban and collector == "stripe" and account_hint:
        return ""
    return compact_iban(iban or "")


def create_mandate(
    session: Session,
    customer: Customer,
    *,
    reference: str,
    signed_on: date,
    debtor_name: str,
    iban: str | None,
    actor: Actor,
    bic: str | None = None,
    collector: str = "bank",
    provider_mandate_id: str | None = None,
    account_hint: str | None = None,
) -> Mandate:
    """A new active mandate; the UMR must be new (mandates are never edited: a change is a new one)."""
    reference = reference.strip()
    if not reference or len(reference) > MAX_REFERENCE:
        raise DebitProblem("reference_too_long")
    if collector not in COLLECTORS:
        raise KeyError(collector)
    if session.scalar(select(Mandate.id).where(Mandate.reference == reference)) is not None:
        raise DebitProblem("reference_taken")
    mandate = Mandate(
        customer_id=customer.id,
        reference=reference,
        signed_on=signed_on,
        debtor_name=debtor_name.strip()[:70],
        iban=_iban_or_none_held(iban, collector, account_hint),
        account_hint=account_hint,
        bic=(bic or "").strip().upper() or None,
        status="active",
        collector=collector,
        provider_mandate_id=provider_mandate_id,
        created_at=clock.now(),
    )
    mandate.customer = customer
    session.add(mandate)
    session.flush()
    emit(session, debit_events.about_mandate(debit_events.MANDATE_CREATED, mandate, actor, collector=collector))
    return mandate


def create_schedule(
    session: Session,
    mandate: Mandate,
    *,
    day_of_month: int,
    amount_cents: int,
    first_period: str,
    actor: Actor,
    last_period: str | None = None,
    currency: str = "EUR",
) -> DebitSchedule:
    """A monthly schedule on ``mandate``; the customer's earlier schedules end (one runs at a time)."""
    rules.parse_period(first_period)
    if last_period is not None:
        rules.parse_period(last_period)
    now = clock.now()
    for earlier in session.scalars(
        select(DebitSchedule).where(DebitSchedule.customer_id == mandate.customer_id, DebitSchedule.ended_at.is_(None))
    ):
        earlier.ended_at = now
    schedule = DebitSchedule(
        customer_id=mandate.customer_id,
        mandate=mandate,
        day_of_month=day_of_month,
        amount_cents=amount_cents,
        currency=currency,
        first_period=first_period,
        last_period=last_period,
        created_at=now,
        updated_at=now,
    )
    session.add(schedule)
    session.flush()
    emit(
        session,
        debit_events.about_schedule(
            debit_events.SCHEDULE_SET,
            schedule,
            actor,
            day=day_of_month,
            amount_cents=amount_cents,
            currency=currency,
            first_period=first_period,
        ),
    )
    return schedule
