"""What a debtor chooses after a failed debit: another date to try again, or telling us what is wrong.

Paying now and a new mandate need no service of their own: both go through the pay page, and a debit whose
invoice is paid meanwhile is skipped when it is due (``collection``).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from portal import clock
from portal.audit.services import Actor
from portal.business_calendar import is_target_day, next_target_day
from portal.debits import events as debit_events
from portal.debits.errors import DebitProblem
from portal.debits.messages import queue_prenotification
from portal.debits.models import Debit
from portal.debits.policy import debit_policy
from portal.events import emit
from portal.i18n import format_day

# Dunning stays paused a few days past the retry date: the bank's answer may take that long.
RETRY_PAUSE_DAYS = 5


def retry_dates(session: Session, *, today: date) -> list[date]:
    """The dates a debtor may choose for another try: TARGET days from tomorrow up to the retry window."""
    last = today + timedelta(days=debit_policy(session).retry_window_days)
    dates = []
    day = next_target_day(today + timedelta(days=1))
    while day <= last:
        dates.append(day)
        day = next_target_day(day + timedelta(days=1))
    return dates


def _lock_failed(session: Session, debit: Debit) -> Debit:
    """The debit under a row lock, still failed and without a choice: a second click or a stale form gets a
    clear answer instead of a second choice."""
    session.execute(select(Debit.id).where(Debit.id == debit.id).with_for_update())
    session.refresh(debit)
    if debit.state != "failed":
        raise DebitProblem("not_failed")
    if debit.choice is not None:
        raise DebitProblem("choice_made")
    if debit.invoice is not None and debit.invoice.state != "open":
        raise DebitProblem("invoice_settled")  # paid another way meanwhile: nothing to try again
    return debit


def _record(session: Session, debit: Debit, choice: str, details: dict[str, str], actor: Actor) -> None:
    now = clock.now()
    debit.choice = choice
    debit.choice_details = details
    debit.chosen_at = now
    debit.updated_at = now
    emit(session, debit_events.about_debit(debit_events.CHOICE_MADE, debit, actor, choice=choice, **details))


def choose_retry(session: Session, debit: Debit, on: date, *, actor: Actor, today: date | None = None) -> Debit:
    """Try ``debit`` again on ``on`` (a TARGET day within the retry window): it is notified again, as the next
    attempt of the same period, and the debtor gets its pre-notification. Raises DebitProblem otherwise."""
    debit = _lock_failed(session, debit)
    mandate = debit.schedule.mandate
    if mandate.status != "active":
        raise DebitProblem("mandate_not_active")
    today = today or clock.today_for(debit.customer)
    allowed = retry_dates(session, today=today)
    if not allowed or on not in allowed or not is_target_day(on):
        raise DebitProblem(
            "retry_date_not_allowed",
            first=format_day(allowed[0]) if allowed else "",
            last=format_day(allowed[-1]) if allowed else "",
        )
    # Kept with the choice: the failed attempt's date is what the debtor's page says could not be collected.
    failed_on = debit.due_on
    debit.state = "notified"
    debit.attempt += 1
    debit.due_on = on
    debit.payment_id = None  # the failed attempt's payment stays as it was; the next one gets its own
    debit.notified_at = clock.now()
    until = datetime.combine(on + timedelta(days=RETRY_PAUSE_DAYS), time(), tzinfo=clock.zone_of(debit.customer))
    debit.paused_until = until.astimezone(UTC)
    _record(session, debit, "retry", {"on": on.isoformat(), "failed_on": failed_on.isoformat()}, actor)
    queue_prenotification(session, mandate, [debit], actor=actor)
    return debit


def failed_on(debit: Debit) -> date:
    """The day the failed attempt was to be collected: its due date, until a retry moved that to the new date."""
    details = debit.choice_details or {}
    if debit.choice == "retry" and "failed_on" in details:
        return date.fromisoformat(details["failed_on"])
    if debit.choice == "retry" and debit.failed_at is not None:
        return clock.today_for(debit.customer, at=debit.failed_at)  # retried before the date was kept
    return debit.due_on


def disputed(session: Session, debit: Debit, reference: str, *, actor: Actor) -> Debit:
    """The debtor disputed the invoice of a debit that failed (a debit they had reversed, MD06, is taken to the
    dispute form): that dispute is their answer to the failure, and staff find it under its reference."""
    debit = _lock_failed(session, debit)
    _record(session, debit, "dispute", {"dispute": reference}, actor)
    return debit
